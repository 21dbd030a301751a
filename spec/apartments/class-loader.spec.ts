import { expect } from 'chai';
import { CallTimeoutError, ModuleLoadError, type Remote } from '../../lib/index.js';
import { stripsTypeScript } from '../../apartments/node-features.js';
import type { TypedGreeter } from '../fixtures/typescript/typed-greeter.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';

// The .ts sources themselves (this file runs from dist/spec/apartments/), not the build's JavaScript.
const source = (file: string): URL => new URL(`../../../spec/fixtures/typescript/${file}`, import.meta.url);
const strips = stripsTypeScript();

describe('apartments/class-loader: a plugin module written in TypeScript', () => {
  it(strips
    ? 'loads in a worker apartment without a loader (this Node strips types), and its objects serve calls there'
    : 'fails with ModuleLoadError [module-typescript] saying how to load it (this Node strips no types)', async () => {
    const { rt } = await startRuntime();
    rt.registerClass('TypedGreeter', { module: source('typed-greeter.ts'), export: 'TypedGreeter' });
    const apt = await rt.createApartment({ name: 'ts-plugins' });
    const created = await apt.createObject<TypedGreeter>('TypedGreeter', 'hi').catch((e: unknown) => e);
    if (strips) {
      expect(await (created as Remote<TypedGreeter>).greet('there')).to.deep.equal({ text: 'hi, there', thread: apt.threadId });
      return;
    }
    expect(created).to.be.instanceOf(ModuleLoadError);
    expect((created as Error).message).to.match(/^\[module-typescript\] class 'TypedGreeter': module file:.*typed-greeter\.ts is TypeScript/)
      .and.contain('compile the module to JavaScript');
  });

  it('fails with ModuleLoadError [module-typescript] when the module uses syntax stripping cannot erase (an enum)', async () => {
    const { rt } = await startRuntime();
    rt.registerClass('MoodyPlugin', { module: source('enum-plugin.ts'), export: 'MoodyPlugin' });
    const apt = await rt.createApartment({ name: 'ts-plugins' });
    const err = await apt.createObject('MoodyPlugin').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ModuleLoadError);
    expect((err as Error).message).to.match(/^\[module-typescript\] class 'MoodyPlugin': module file:.*enum-plugin\.ts /)
      .and.contain(strips ? 'keep to erasable syntax' : 'does not strip types');
    expect(await rt.createObject('MoodyPlugin').catch((e: unknown) => e), 'the main apartment answers the same').to.be.instanceOf(ModuleLoadError);
  });
});

// The main apartment loads a class's module to learn its contract before it places an object, and
// no caller's deadline bounds what the host itself awaits: a module whose top-level code never
// finished left rt.createObject() and rt.createInstance() waiting for good.
describe('apartments/class-loader: a module that never finishes loading', () => {
  it('fails the host\'s createObject() and createInstance() with CallTimeoutError [module-timeout] at the main apartment\'s deadline', async () => {
    const { rt } = await startRuntime({ defaultTimeoutMs: 5_000 });
    rt.registerClass('NeverLoaded', { module: fixture('never-loads.js'), export: 'NeverLoaded' });
    for (const attempt of [() => rt.createObject('NeverLoaded'), () => rt.createInstance('NeverLoaded'), () => rt.createObject('NeverLoaded')]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(CallTimeoutError);
      expect((err as Error).message).to.match(/^\[module-timeout\] class 'NeverLoaded': module file:.*never-loads\.js did not finish loading in /);
    }
  });
});

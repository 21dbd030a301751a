import { expect } from 'chai';
import { InvalidArgumentError, NoInterfaceError, ProtocolError, bindInterface, byRef, isProxy, release, type Remote, type Runtime } from '../../../lib/index.js';
import type { Listener } from '../../fixtures/proxygen/calc-api.js';
import { CalcImpl } from '../../fixtures/proxygen/calc-impl.js';
import { CalcApiManifest, bindCalcApi } from '../../fixtures/proxygen/generated/calc-api.remote.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

async function startCalc(): Promise<{ proxy: unknown; r: Runtime }> {
  ({ rt } = await startRuntime());
  rt.registerClass('CalcImpl', { module: fixture('proxygen/calc-impl.js'), export: 'CalcImpl' });
  const apt = await rt.createApartment({ name: 'calc' });
  return { proxy: await apt.createObject('CalcImpl'), r: rt };
}

describe('lib/cli: generated proxies and stubs in a real apartment', () => {
  it('calls every method through the typed proxy, by index', async () => {
    const { proxy } = await startCalc();
    const calc = await bindCalcApi(proxy);
    expect(await calc.add(2, 3)).to.equal(5);
    expect(await calc.scale([1, 2])).to.deep.equal([2, 4]);
    expect(await calc.scale([1, 2], 3)).to.deep.equal([3, 6]);
    expect(await calc.describe({ label: 'x', precision: 2 })).to.equal('x:2');
    expect(await calc.pick('max', [3, 9, 4])).to.equal(9);
    const heard: string[] = [];
    expect(await calc.tell(byRef({ notify: (m: string) => void heard.push(m) }), 'hello')).to.equal(true);
    expect(heard).to.deep.equal(['hello']);
    expect(await calc.flag(true, null)).to.equal(false);
  });

  it('rejects every bad argument with InvalidArgumentError naming the parameter, before the object is touched', async () => {
    const { proxy } = await startCalc();
    const calc = await bindCalcApi(proxy);
    const loose = proxy as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const cases: [() => Promise<unknown>, string][] = [
      [() => loose.add!('2', 3), 'a'],
      [() => loose.add!(2), 'b'],
      [() => loose.add!(1, 2, 3), 'b'],
      [() => loose.scale!('no'), 'values'],
      [() => loose.scale!([1, 'x']), 'values'],
      [() => loose.scale!([1], '2'), 'factor'],
      [() => loose.describe!({ precision: 1 }), 'options'],
      [() => loose.describe!({ label: 'x', precision: '1' }), 'options'],
      [() => loose.describe!([]), 'options'],
      [() => loose.pick!('avg', [1]), 'mode'],
      [() => loose.tell!(42, 'm'), 'listener'],
      [() => loose.flag!(1, null), 'on'],
      [() => loose.flag!(true, 3), 'note'],
    ];
    for (const [call, parameter] of cases) {
      const err = await call().catch((e: unknown) => e);
      expect(err, parameter).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter, String((err as Error).message)).to.equal(parameter);
    }
    expect(await calc.touches()).to.equal(0);
  });

  it('gives a by-ref result as a proxy typed Remote<Listener>, and checks rest parameters element by element', async () => {
    const { proxy } = await startCalc();
    const calc = await bindCalcApi(proxy);
    const listener: Remote<Listener> = await calc.listenerFor('p:');
    expect(isProxy(listener)).to.equal(true);
    const notified: Promise<void> = listener.notify('one');
    await notified;
    expect(await calc.tell(listener, 'two')).to.equal(true);
    release(listener);
    expect(await calc.total('t')).to.equal('t=0');
    expect(await calc.total('t', 1, 2, 3)).to.equal('t=6');
    const loose = proxy as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const [call, parameter] of [[() => loose.total!('t', 1, 'x'), 'values'], [() => loose.total!(), 'label']] as const) {
      const err = await call().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal(parameter);
    }
  });

  it('refuses a plain object passed by value where a remote interface is expected, naming the parameter', async () => {
    const { proxy } = await startCalc();
    const calc = await bindCalcApi(proxy);
    const loose = proxy as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const byValue of [{}, { label: 'x' }, { notify: 'not a method' }, [], null]) {
      const err = await loose.tell!(byValue, 'm').catch((e: unknown) => e);
      expect(err, JSON.stringify(byValue)).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal('listener');
      expect((err as Error).message).to.contain('remote Listener').and.contain('byRef()').and.contain('notify');
    }
    expect(await calc.touches()).to.equal(0);
  });

  it('checks a by-ref argument of a local call by its methods: an object with them passes, one without fails', async () => {
    const local = await bindCalcApi(new CalcImpl());
    const heard: string[] = [];
    expect(await local.tell({ notify: (m: string) => void heard.push(m) }, 'here')).to.equal(true);
    expect(heard).to.deep.equal(['here']);
    const withGetter = Object.defineProperty({}, 'notify', { get: () => () => heard.push('getter ran') });
    for (const bad of [{}, withGetter]) {
      const err = await local.tell(bad as Listener, 'm').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal('listener');
    }
    expect(heard, 'a getter on the argument is never run').to.deep.equal(['here']);
  });

  it('never reaches a member outside the interface', async () => {
    const { proxy } = await startCalc();
    const loose = proxy as Record<string, () => Promise<unknown>>;
    for (const name of ['secret', 'constructor', '__proto__', 'toString', 'touched']) {
      expect(await loose[name]!().catch((e: unknown) => e), name).to.be.instanceOf(NoInterfaceError);
    }
    const bound = await bindInterface(proxy, CalcApiManifest);
    expect(await bound.invoke(99, []).catch((e: unknown) => e)).to.be.instanceOf(NoInterfaceError);
  });

  it('refuses symbol-like names, unlisted getters and fields, and odd indexes, without touching the object', async () => {
    const { proxy } = await startCalc();
    const loose = proxy as Record<string, () => Promise<unknown>>;
    const names = ['leaky', 'heard', 'Symbol(Symbol.iterator)', 'Symbol.iterator', '@@iterator', 'hasOwnProperty', 'valueOf', 'prototype', ''];
    for (const name of names) {
      expect(await loose[name]!().catch((e: unknown) => e), name || '(call)').to.be.instanceOf(NoInterfaceError);
    }
    const bound = await bindInterface(proxy, CalcApiManifest);
    expect(await bound.invoke(CalcApiManifest.members.length, []).catch((e: unknown) => e)).to.be.instanceOf(NoInterfaceError);
    // Not an index at all: the channel drops the message as malformed before it reaches the apartment.
    for (const index of [-1, 1.5, Number.NaN]) {
      expect(await bound.invoke(index, []).catch((e: unknown) => e), String(index)).to.be.instanceOf(ProtocolError);
    }
    const local = await bindInterface(new CalcImpl(), CalcApiManifest);
    for (const index of [-1, 1.5, Number.NaN, CalcApiManifest.members.length]) {
      expect(await local.invoke(index, []).catch((e: unknown) => e), `local ${index}`).to.be.instanceOf(NoInterfaceError);
    }
    expect(await (await bindCalcApi(proxy)).touches(), 'the getter never ran').to.equal(0);
  });

  it('binds per member: a caller built against another version calls the members that did not change; with none in common, binding fails', async () => {
    const { proxy, r } = await startCalc();
    // An older build of CalcApi: `add` changed (another hash), `touches` did not, and the order differs.
    const [add, , , , , , touches] = CalcApiManifest.members;
    const older = { ...CalcApiManifest, version: '0000000000000000', members: [{ ...add!, hash: 'ffffffffffffffff' }, touches!] };
    const bound = await bindInterface(proxy, older);
    expect(await bound.invoke(1, []), 'touches, at its index in the older build').to.equal(0);
    const changed = await bound.invoke(0, [1, 2]).catch((e: unknown) => e);
    expect(changed).to.be.instanceOf(NoInterfaceError);
    expect((changed as Error).message).to.contain('[version-mismatch]').and.contain('CalcApi.add');
    const unrelated = { ...CalcApiManifest, version: '0000000000000000', members: [{ ...add!, hash: 'ffffffffffffffff' }] };
    const err = await bindInterface(proxy, unrelated).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoInterfaceError);
    expect((err as Error).message).to.contain('[version-mismatch]');
    const other = await r.createObject('Calc');
    expect(await bindCalcApi(other).catch((e: unknown) => e)).to.be.instanceOf(NoInterfaceError);
  });
});

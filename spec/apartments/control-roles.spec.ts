import { expect } from 'chai';
import { AccessDeniedError, NoInterfaceError, release, type Remote } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Holder } from '../fixtures/holder.js';
import { hostileScene, type HostileScene } from '../fixtures/hostile-scene.js';
import { eventually, expectNoExports } from '../fixtures/runtime-fixture.js';

// A plugin tries what only the main apartment may do: lifecycle messages to a bystander, the
// bystander's main-only control methods, class registration, and reaching the engine through the
// runtime's own objects. Each is refused; the bystander keeps its objects and its links.

interface Scene extends HostileScene {
  calc: Remote<Calc>;
}

async function scene(): Promise<Scene> {
  const base = await hostileScene();
  const calc = await base.bystander.createObject<Calc>('Calc');
  await base.hostile.linkTo(base.bystander.id);
  return { ...base, calc };
}

async function expectRefusalLogged(s: Scene, what: RegExp): Promise<void> {
  await eventually(() => {
    const refused = s.logs.filter((e) => e.apartment === s.bystander.id && e.message.includes('[lifecycle]') && what.test(e.message) && e.message.includes(s.plugin.label));
    expect(refused.length, 'the bystander logs the refusal with the plugin named').to.be.greaterThan(0);
  });
}

async function cleanUp(s: Scene, ...more: object[]): Promise<void> {
  for (const p of [s.hostile, s.calc, ...more]) release(p);
  await expectNoExports(s.rt);
}

describe('apartments/control-roles: lifecycle messages are taken only from the main apartment', () => {
  it('a forged PeerGone naming the main apartment does not make a bystander exit', async () => {
    const s = await scene();
    await s.hostile.forgePeerGone(s.bystander.id, 0);
    await expectRefusalLogged(s, /PeerGone naming the main apartment|PeerGone naming apartment 0/);
    expect(await s.calc.add(5)).to.equal(5);
    expect(s.bystander.state).to.equal('ready');
    await cleanUp(s);
  });

  it("a forged PeerGone naming a third apartment does not cut the bystander's link to it", async () => {
    const s = await scene();
    const third = await (await s.rt.createApartment({ name: 'third' })).createObject<Calc>('Calc', 10);
    const holder = await s.bystander.createObject<Holder>('Holder');
    await holder.keep(third);
    expect(await holder.callKept(0, 'add', 1)).to.equal(11);
    await s.hostile.forgePeerGone(s.bystander.id, 3);
    await expectRefusalLogged(s, /PeerGone naming/);
    expect(await holder.callKept(0, 'add', 1), 'the bystander still reaches the third apartment').to.equal(12);
    await holder.releaseAll();
    await cleanUp(s, holder, third);
  });

  it("a forged Connect does not replace the bystander's link to the host, and the plugin hears nothing through it", async () => {
    const s = await scene();
    expect(await s.hostile.forgeConnect(s.bystander.id, 0, 'apartment.stats')).to.equal('closed');
    expect(await s.hostile.forgeConnect(s.bystander.id, 3, 'objects.createObject')).to.equal('closed');
    await expectRefusalLogged(s, /Connect/);
    expect(await s.calc.add(2), 'the host still reaches the bystander').to.equal(2);
    expect((await s.bystander.stats()).exports).to.equal(1);
    await cleanUp(s);
  });
});

describe('apartments/control-roles: control methods say which roles may call them', () => {
  it("a plugin may not reset, close, register classes or hooks in, or read a bystander's stats", async () => {
    const s = await scene();
    const attempts: [string, unknown[]][] = [
      ['apartment.reset', []],
      ['apartment.close', []],
      ['apartment.stats', []],
      ['apartment.registerClass', [{ name: 'Calc', module: 'data:text/javascript,export class Calc { add() { return "owned"; } }', export: 'Calc' }]],
      ['apartment.registerHooks', [{ module: 'data:text/javascript,export default { attach() {} }', export: 'default' }]],
      ['apartment.breakWait', [1, 'no']],
    ];
    for (const [method, args] of attempts) {
      const err = await s.hostile.control(s.bystander.id, method, ...args).catch((e: unknown) => e);
      expect(err, method).to.be.instanceOf(AccessDeniedError);
    }
    expect(await s.calc.add(3), 'the bystander kept its objects').to.equal(3);
    const fresh = await s.bystander.createObject<Calc>('Calc');
    expect(await fresh.add(1), 'and its own Calc class').to.equal(1);
    await cleanUp(s, fresh);
  });

  it('a plugin cannot register or replace a class on the host', async () => {
    const s = await scene();
    const descriptor = { name: 'Calc', module: 'data:text/javascript,export class Calc { add() { return "owned"; } }', export: 'Calc' };
    for (const method of ['apartment.registerClass', 'objects.registerClass', 'runtime.registerClass']) {
      const err = await s.hostile.control(0, method, descriptor).catch((e: unknown) => e);
      expect(err, method).to.be.instanceOf(NoInterfaceError);
    }
    const calc = await s.rt.createObject<Calc>('Calc');
    expect(await calc.add(1), "the host's next Calc is its own class").to.equal(1);
    await cleanUp(s, calc);
  });
});

describe('apartments/control-roles: plugin code reaches no engine internals through the runtime', () => {
  it('currentApartment() is a frozen view without endpoint, channels or tables, and workerData is empty', async () => {
    const s = await scene();
    const reach = await s.hostile.reach();
    expect(reach.frozen).to.equal(true);
    expect(reach.members).to.include.members(['id', 'name', 'kind', 'createObject']);
    for (const internal of ['endpoint', 'dispatcher', 'control', 'exports', 'marshalTable', 'scriptGate', 'controlOf', 'hooks']) {
      expect(reach.members, internal).to.not.include(internal);
    }
    expect(reach.workerData, 'the boot record (ring memory, ports) is gone').to.deep.equal([]);
    await cleanUp(s);
  });
});

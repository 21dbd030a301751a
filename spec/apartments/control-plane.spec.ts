import { expect } from 'chai';
import type { Remote, Runtime } from '../../lib/index.js';
import { RuntimeService } from '../../apartments/engine-services.js';
import { localApartment } from '../../apartments/local-context.js';
import type { Calc } from '../fixtures/calc.js';
import type { ControlProber } from '../fixtures/control-prober.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

async function twoApartments(): Promise<{ rt: Runtime; prober: Remote<ControlProber>; bystander: number; calc: Remote<Calc> }> {
  const { rt } = await startRuntime();
  rt.registerClass('ControlProber', { module: fixture('control-prober.js'), export: 'ControlProber' });
  const plugin = await rt.createApartment({ name: 'plugin' });
  const other = await rt.createApartment({ name: 'bystander' });
  const prober = await plugin.createObject<ControlProber>('ControlProber');
  const calc = await other.createObject<Calc>('Calc');
  return { rt, prober, bystander: other.id, calc };
}

describe('apartments/control-plane: each control method says which roles may call it', () => {
  it('refuses a main-only method called by a worker apartment with AccessDeniedError, and the target keeps serving', async () => {
    const { rt, prober, bystander, calc } = await twoApartments();
    for (const method of ['apartment.close', 'apartment.reset', 'apartment.registerClass', 'apartment.stats']) {
      const r = await prober.call(bystander, method, method === 'apartment.registerClass' ? [{ name: 'Vault', module: 'data:text/javascript,', export: 'default' }] : []);
      expect(r, method).to.deep.include({ ok: false, name: 'AccessDeniedError', code: 'E_ACCESSDENIED' });
    }
    expect(await calc.add(2)).to.be.a('number');
    expect(rt.apartments.find((a) => a.id === bystander)!.state).to.equal('ready');
  });

  it('refuses a worker-only method called on the main apartment by the main apartment itself', async () => {
    const { rt } = await startRuntime();
    expect(rt.main.id).to.equal(0);
    const err = await localApartment().controlOf(0, RuntimeService).place('Calc', 'external', undefined).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'E_ACCESSDENIED');
  });
});

describe('apartments/control-plane: arguments from a peer are checked before the method runs', () => {
  it('answers bad arguments with InvalidArgumentError naming the parameter', async () => {
    const { prober } = await twoApartments();
    const r = await prober.call(0, 'runtime.place', [42, 'sideways']);
    expect(r).to.deep.include({ ok: false, name: 'InvalidArgumentError', code: 'E_INVALIDARG' });
    expect((r as { message: string }).message).to.contain('className');
    const big = await prober.call(0, 'named.open', ['memory', 'huge', 2 ** 40]);
    expect(big).to.deep.include({ ok: false, name: 'InvalidArgumentError' });
  });
});

describe('apartments/control-plane: only service methods are reachable at object id 0', () => {
  it('gives a peer no way to the router itself (register, local) or to Object.prototype', async () => {
    const { prober } = await twoApartments();
    for (const method of ['register', 'local', 'serves', 'constructor', 'toString', '__proto__', 'nonexistent.method']) {
      const r = await prober.call(0, method, ['named.close', ['x']]);
      expect(r, method).to.deep.include({ ok: false, name: 'NoInterfaceError' });
    }
  });
});

describe('apartments/control-plane: one-way notifications', () => {
  it('delivers a one-way log notification with the sender as its apartment; a bad one is logged, never answered', async () => {
    const { rt, logs } = await startRuntime();
    rt.registerClass('ControlProber', { module: fixture('control-prober.js'), export: 'ControlProber' });
    const apt = await rt.createApartment({ name: 'noisy' });
    const prober = await apt.createObject<ControlProber>('ControlProber');
    // It claims another apartment's id in vain: the entry names the link it came on.
    await prober.notify(0, 'runtime.log', ['warn', '[probe] hello from a worker', undefined]);
    await prober.notify(0, 'runtime.log', ['shout', 42, 'not a causality']);
    await eventually(() => {
      const entry = logs.find((e) => e.message.includes('[probe] hello from a worker'));
      expect(entry, 'the log entry').to.not.equal(undefined);
      expect(entry!.apartment).to.equal(apt.id);
      expect(logs.some((e) => e.message.includes('[notify]') && e.message.includes('runtime.log'))).to.equal(true);
    });
    expect(await prober.whoAmI()).to.equal(apt.id);
  });
});

import { expect } from 'chai';
import { BroadcastChannel } from 'node:worker_threads';
import type { Runtime } from '../../lib/index.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

type Probe = { seen(): string[] };

let channel: BroadcastChannel | undefined;
afterEach(() => {
  channel?.close();
});

/** Everything the hooks module notes, in every thread, in arrival order. */
function listen(): string[] {
  const seen: string[] = [];
  channel = new BroadcastChannel('apartment-runtime-spec-hooks');
  channel.onmessage = (e) => seen.push(String((e as MessageEvent).data));
  return seen;
}

describe('apartments/hooks: attach and detach notifications', () => {
  it('replays attach in an existing apartment before its next call, and attaches a new one before its first', async () => {
    const seen = listen();
    ({ rt } = await startRuntime());
    rt.registerClass('HookProbe', { module: fixture('hooks-module.js'), export: 'HookProbe' });
    const early = await rt.createApartment({ name: 'early' });
    const earlyProbe = await early.createObject<Probe>('HookProbe');
    expect(await earlyProbe.seen()).to.deep.equal([]);
    // The attach takes a while; a call made while it is being replayed must wait for it.
    const registering = rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 'slowHooks' });
    expect(await earlyProbe.seen()).to.deep.equal(['attach early']);
    await registering;
    const late = await rt.createApartment({ name: 'late' });
    const probe = await late.createObject<Probe>('HookProbe');
    expect(await probe.seen()).to.deep.equal(['attach late']);
    await eventually(() => {
      expect(seen).to.include.members(['attach main', 'attach early', 'attach late']);
    });
    expect(seen.indexOf('attach early'), 'replayed before the new apartment existed').to.be.lessThan(seen.indexOf('attach late'));
  });

  it('detaches on close and on a fault, and not twice', async () => {
    const seen = listen();
    ({ rt } = await startRuntime());
    await rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 'hooks' });
    const closing = await rt.createApartment({ name: 'closing' });
    const dying = await rt.createApartment({ name: 'dying' });
    const crasher = await dying.createObject<{ throwLater(m: string): Promise<boolean> }>('Crasher');
    await closing.close();
    await crasher.throwLater('bye');
    await eventually(() => {
      expect(seen).to.include.members(['detach closing close', 'detach dying fault']);
    });
    expect(seen.filter((s) => s.startsWith('detach closing'))).to.have.length(1);
    // Each apartment's notes arrive in the order it made them: attach first, detach after.
    for (const name of ['closing', 'dying']) {
      const attached = seen.indexOf(`attach ${name}`);
      expect(attached, `attach ${name}`).to.be.greaterThan(-1);
      expect(attached, `attach ${name} before its detach`).to.be.lessThan(seen.findIndex((s) => s.startsWith(`detach ${name}`)));
    }
  });

  it('reports a hook that throws and keeps the apartment serving', async () => {
    const { rt: started, logs } = await startRuntime();
    rt = started;
    const apt = await rt.createApartment({ name: 'sturdy' });
    await rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 'brokenHooks' });
    const calc = await apt.createObject<{ add(n: number): Promise<number> }>('Calc');
    expect(await calc.add(2)).to.equal(2);
    await eventually(() => {
      expect(logs.some((l) => l.message.includes('[hook-attach]') && l.apartment === apt.id)).to.equal(true);
    });
  });
});

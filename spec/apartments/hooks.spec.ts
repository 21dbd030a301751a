import { expect } from 'chai';
import { BroadcastChannel } from 'node:worker_threads';
import type { Runtime } from '../../lib/index.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

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
  it('replays attach in apartments that existed before registration, and attaches new ones before they serve', async () => {
    const seen = listen();
    ({ rt } = await startRuntime());
    rt.registerClass('HookProbe', { module: fixture('hooks-module.js'), export: 'HookProbe' });
    await rt.createApartment({ name: 'early' });
    await rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 'hooks' });
    const late = await rt.createApartment({ name: 'late' });
    const probe = await late.createObject<{ seen(): string[] }>('HookProbe');
    expect(await probe.seen()).to.deep.equal(['attach late']);
    await eventually(() => {
      expect(seen).to.include.members(['attach main', 'attach early', 'attach late']);
    });
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

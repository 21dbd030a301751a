import { expect } from 'chai';
import { BroadcastChannel } from 'node:worker_threads';
import { CallCanceledError, CallRejectedError, CallTimeoutError, InvalidArgumentError, ModuleLoadError, callOptions, release, type Runtime } from '../../lib/index.js';
import type { Holder } from '../fixtures/holder.js';
import { eventually, expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

type Probe = { seen(): string[] };

let channel: BroadcastChannel | undefined;
const gates: BroadcastChannel[] = [];
afterEach(() => {
  channel?.close();
  for (const g of gates.splice(0)) g.close();
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

  it('refuses a module that does not load, or lacks the export, with ModuleLoadError and registers nothing', async () => {
    const seen = listen();
    const { rt: started, logs } = await startRuntime();
    rt = started;
    await rt.createApartment({ name: 'before' });
    // Before: both resolved, the failure only logged, and every later apartment tried the module again.
    const missing = await rt.registerApartmentHooks({ module: fixture('no-such-hooks.js') }).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(ModuleLoadError);
    expect((missing as Error).message).to.match(/^\[hooks-module\] .*no-such-hooks\.js could not be loaded/);
    const noExport = await rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 'noSuchHooks' }).catch((e: unknown) => e);
    expect(noExport).to.be.instanceOf(ModuleLoadError);
    expect((noExport as Error).message).to.match(/^\[hooks-export\]/);
    expect(await rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 5 as never }).catch((e: unknown) => e)).to.be.instanceOf(InvalidArgumentError);
    const after = await rt.createApartment({ name: 'after' });
    await rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 'hooks' });
    expect(logs.filter((l) => l.apartment === after.id && l.message.includes('[hook-attach]')), 'the later apartment was not given the refused modules').to.deep.equal([]);
    await eventually(() => {
      expect(seen).to.include.members(['attach main', 'attach before', 'attach after']);
    });
  });
});

describe('apartments/hooks: an attach that never settles in the main apartment', () => {
  it('fails registerApartmentHooks() with CallTimeoutError at the main apartment\'s deadline, and no longer holds what waits for it', async () => {
    ({ rt } = await startRuntime({ defaultTimeoutMs: 5_000 }));
    const err = await rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 'stuckAttachHooks' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as Error).message).to.match(/^\[hook-attach\] attach of .*hooks-module\.js had not settled in apartment 0 /);
    // Objects of the main apartment are constructed after its attaches: before, this waited for good.
    const mainOnly = await rt.createInstance<{ where(): number }>('MainOnly');
    expect(mainOnly.where()).to.equal(0);
  });
});

// Before, a worker apartment waited for such an attach for good: registerApartmentHooks() failed
// with a bare call timeout, and every call into the apartment, later ones too, waited behind it.
describe('apartments/hooks: an attach that never settles in a worker apartment', () => {
  it('fails registerApartmentHooks() with that apartment\'s CallTimeoutError [hook-attach], reports it, and serves the calls after it', async () => {
    const { rt: started, logs } = await startRuntime({ defaultTimeoutMs: 5_000 });
    rt = started;
    const apt = await rt.createApartment({ name: 'attaching' });
    const calc = await apt.createObject<{ add(n: number): Promise<number> }>('Calc');
    const err = await rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 'stuckWorkerAttachHooks' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as Error).message).to.match(new RegExp(`^\\[hook-attach\\] attach of .*hooks-module\\.js had not settled in apartment ${apt.id} `));
    expect(logs.some((l) => l.apartment === apt.id && l.message.startsWith('[hook-attach]')), 'the apartment reported it').to.equal(true);
    expect(await calc.add(2), 'a call made after the attach\'s deadline is served').to.equal(2);
    // An apartment started later attaches the module too: it reports the overrun and starts serving.
    const later = await rt.createApartment({ name: 'later' });
    const laterCalc = await later.createObject<{ add(n: number): Promise<number> }>('Calc');
    expect(await laterCalc.add(3)).to.equal(3);
    expect(logs.some((l) => l.apartment === later.id && l.message.startsWith('[hook-attach]')), 'the later apartment reported it').to.equal(true);
  });
});

describe('apartments/hooks: a detach that never settles', () => {
  it('does not keep rt.close() from settling: the main apartment\'s detach is reported and left', async () => {
    const { rt: started, logs } = await startRuntime();
    rt = started;
    await rt.registerApartmentHooks({ module: fixture('hooks-module.js'), export: 'stuckDetachHooks' });
    const apt = await rt.createApartment({ name: 'worker' });
    await rt.close();
    expect(apt.state).to.equal('closed');
    expect(logs.some((l) => l.apartment === 0 && l.message.startsWith('[hook-detach]') && l.message.includes('had not settled')), 'the stuck detach was reported').to.equal(true);
  });
});

/**
 * Register the gated hooks (hooks-module.ts gatedHooks) and wait until a worker apartment's attach
 * is held open; `open()` lets it return, and `registered` settles once every apartment attached.
 */
async function holdAttachOpen(r: Runtime, hooks = 'gatedHooks'): Promise<{ open(): void; registered: Promise<void> }> {
  const waiting = new BroadcastChannel('gated-attach-waiting');
  gates.push(waiting);
  const held = new Promise<void>((resolve) => (waiting.onmessage = () => resolve()));
  const registered = r.registerApartmentHooks({ module: fixture('hooks-module.js'), export: hooks });
  await held;
  return {
    open: () => {
      const gate = new BroadcastChannel('gated-attach');
      gate.postMessage('go');
      gate.close();
    },
    registered,
  };
}

describe('apartments/hooks: a call held while an attach runs keeps its target', () => {
  it('runs a call whose caller released the object right after sending it, once the attach returns', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'attaching' });
    const other = await apt.createObject<Holder>('Holder');
    const exported = (await apt.stats()).exports;
    const attach = await holdAttachOpen(rt);
    const kept = other.keep('sent before the release');
    release(other);
    // The release is a control message: it is served while the call it followed is held.
    await eventually(async () => {
      expect((await apt.stats()).exports, 'the release was served').to.equal(exported - 1);
    }, 60_000);
    attach.open();
    expect(await kept, 'the held call ran on the object it named').to.equal(1);
    await attach.registered;
    await expectNoExports(rt);
  });
});

describe('apartments/hooks: calls held while an attach runs count as queued calls', () => {
  it('counts them in stats().queuedCalls and refuses the call past maxQueuedPerApartment', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'attaching', callLimits: { maxQueuedPerApartment: 2 } });
    const holder = await apt.createObject<Holder>('Holder');
    const attach = await holdAttachOpen(rt);
    const held = [holder.keep('a'), holder.keep('b')];
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls, 'both wait for the attach').to.equal(2);
    }, 60_000);
    const refused = await holder.keep('c').catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(CallRejectedError);
    expect((refused as Error).message).to.contain('[queue-full]');
    attach.open();
    expect(await Promise.all(held), 'they ran in the order they were sent').to.deep.equal([1, 2]);
    expect((await apt.stats()).queuedCalls).to.equal(0);
    await attach.registered;
    release(holder);
    await expectNoExports(rt);
  });
});

describe('apartments/hooks: a call cancelled while an attach holds it never runs', () => {
  it('drops the call, gives back the references it carried, and serves the calls behind it', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'attaching' });
    const holder = await apt.createObject<Holder>('Holder');
    const exported = rt.stats().exports;
    const attach = await holdAttachOpen(rt);
    const ac = new AbortController();
    const cancelled = holder.keep(() => 'a callback', callOptions({ signal: ac.signal })).catch((e: unknown) => e);
    const after = holder.keep('sent after the cancelled one');
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls).to.equal(2);
    }, 60_000);
    expect(rt.stats().exports, 'the callback is exported while its call waits').to.equal(exported + 1);
    ac.abort();
    expect(await cancelled).to.be.instanceOf(CallCanceledError);
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls, 'the callee dropped the cancelled call').to.equal(1);
    }, 60_000);
    // Given back as the callee dropped the call, before it answered the stats call above on the same link.
    expect(rt.stats().exports, 'the callback was given back').to.equal(exported);
    attach.open();
    expect(await after, 'the cancelled call never ran').to.equal(1);
    await attach.registered;
    release(holder);
    await expectNoExports(rt);
  });
});

describe('apartments/hooks: a callback the attach itself caused is not held behind the calls the attach holds', () => {
  it('serves the callback while a call from the same caller waits for the attach, which then returns', async () => {
    const seen = listen();
    ({ rt } = await startRuntime());
    rt.registerClass('AttachPeer', { module: fixture('hooks-module.js'), export: 'AttachPeer' });
    const apt = await rt.createApartment({ name: 'attaching' });
    const peerApt = await rt.createApartment({ name: 'peer' });
    const local = await apt.createObject<Holder>('Holder');
    // Two holders in the peer's apartment, both keeping `local`: one for the attach to call, one to send the held call.
    const [peer, sender] = [await peerApt.createObject<Holder>('Holder'), await peerApt.createObject<Holder>('Holder')];
    expect(await local.keep('kept before the attach')).to.equal(1);
    expect([await peer.keep(local), await sender.keep(local)]).to.deep.equal([1, 1]);
    const attachPeer = await apt.createObject<{ use(holder: unknown): Promise<boolean> }>('AttachPeer');
    expect(await attachPeer.use(peer)).to.equal(true);
    const attach = await holdAttachOpen(rt, 'callingOutHooks');
    // A call of another chain, sent by the peer's apartment on the link the callback will take: held.
    const held = sender.callKept(0, 'keep', 'held during the attach');
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls, 'the peer\'s call waits for the attach').to.equal(1);
    }, 60_000);
    attach.open();
    await attach.registered;
    expect(await held, 'the held call ran once the attach returned').to.equal(2);
    await eventually(() => {
      expect(seen, 'the attach\'s callback ran while the peer\'s call waited').to.include('attach attaching called back: kept before the attach');
    });
  });
});

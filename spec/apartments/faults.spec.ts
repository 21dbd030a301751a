import { expect } from 'chai';
import { ApartmentFaultedError, DeadlockError, DisconnectedError, currentCall, type Apartment, type Remote, type Runtime } from '../../lib/index.js';
import type { Chain, Gate } from '../fixtures/admission-classes.js';
import type { Calc } from '../fixtures/calc.js';
import type { Crasher } from '../fixtures/crasher.js';
import type { Holder } from '../fixtures/holder.js';
import { G_AWAKE, G_CORES, threadGate } from '../../marshal/transports/thread-spinner.js';
import { eventually, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

/** Settle a call's promise into its value or error at once, so no rejection goes unhandled. */
const settled = (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => e);

async function expectFault(apt: Apartment, inFlight: Promise<unknown>, causeText: RegExp): Promise<void> {
  const err = await inFlight;
  expect(err).to.be.instanceOf(ApartmentFaultedError);
  expect(String((err as Error).cause)).to.match(causeText);
  expect(apt.state).to.equal('faulted');
}

/** A call made after the fault: DisconnectedError, whose cause is the fault (and its cause says why). */
function expectDisconnectedByFault(err: unknown, causeText: RegExp): void {
  expect(err).to.be.instanceOf(DisconnectedError);
  expect(err).to.not.be.instanceOf(ApartmentFaultedError);
  const fault = (err as Error).cause;
  expect(fault).to.be.instanceOf(ApartmentFaultedError);
  expect(String((fault as Error).cause)).to.match(causeText);
}

describe('apartments/faults: every way an apartment dies is contained', () => {
  it('an unhandled rejection faults the apartment with its cause', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const c = await apt.createObject<Crasher>('Crasher');
    const hang = settled(c.hang());
    await c.rejectLater('nobody caught me');
    await expectFault(apt, hang, /nobody caught me/);
  });

  it('running out of memory under resourceLimits faults only that apartment', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
    const other = await (await rt.createApartment()).createObject<Calc>('Calc');
    const c = await apt.createObject<Crasher>('Crasher');
    await expectFault(apt, settled(c.exhaustMemory()), /memory/i);
    expect(await other.add(1)).to.equal(1);
  });

  it('terminate() rejects in-flight calls with ApartmentFaultedError; later calls, here and elsewhere, fail with DisconnectedError', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const c = await apt.createObject<Crasher>('Crasher');
    const holder = await (await rt.createApartment()).createObject<Holder>('Holder');
    await holder.keep(c);
    const hang = settled(c.hang());
    await apt.terminate();
    await expectFault(apt, hang, /terminated/);
    expectDisconnectedByFault(await c.ping().catch((e: unknown) => e), /terminated/);
    expectDisconnectedByFault(await apt.createObject('Calc').catch((e: unknown) => e), /terminated/);
    // The other apartment hears of the fault a moment later; from then on its calls are refused the same way.
    await eventually(async () => {
      expectDisconnectedByFault(await holder.callKept(0, 'ping').catch((e: unknown) => e), /terminated/);
    });
  });

  it('releases, on the other side, the references the dead apartment held', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const peer = await rt.createApartment();
    const calc = await peer.createObject<Calc>('Calc');
    const holder = await apt.createObject<Holder>('Holder');
    await holder.keep(() => 'host callback');
    await holder.keep(calc);
    expect(rt.stats().exports).to.equal(1);
    await apt.terminate();
    await eventually(async () => {
      expect(rt!.stats().exports).to.equal(0);
      expect((await peer.stats()).exports).to.equal(1);
    });
    expect(await calc.add(2)).to.equal(2);
  });
});

describe('apartments/faults: an answer sent before the apartment died is not lost', () => {
  const cases = [
    { transport: 'shared-memory', how: 'shared-memory link' },
    { transport: 'shared-memory', how: 'shared-memory link working as a port link (nothing may spin)', closeGate: true },
    { transport: 'port', how: 'port link' },
  ] as const;
  let closedGateBy = 0;
  afterEach(() => {
    // Give back the awake places that closed the spin gate, even when the spec failed.
    Atomics.sub(threadGate(), G_AWAKE, closedGateBy);
    closedGateBy = 0;
  });
  for (const link of cases) {
    it(`settles the call with its answer over a ${link.how}, though the host hears of the death first`, async () => {
      ({ rt } = await startRuntime());
      if ('closeGate' in link) {
        // More awake threads than cores: the parked host then gets the answer over the port with
        // no record in the ring that points to it.
        closedGateBy = Atomics.load(threadGate(), G_CORES) + 4;
        Atomics.add(threadGate(), G_AWAKE, closedGateBy);
      }
      const apt = await rt.createApartment({ transport: link.transport });
      const c = await apt.createObject<Crasher>('Crasher');
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const answer = settled(c.answerThenSignal(flag));
      // The call goes out at the end of this turn's microtasks; from then on this thread reads
      // nothing until the answer is on its way, then ends the apartment before it reads the answer:
      // the call was answered, and the answer counts.
      await Promise.resolve();
      expect(Atomics.wait(flag, 0, 0, 60_000)).to.not.equal('timed-out');
      const terminated = apt.terminate();
      expect(apt.state).to.equal('faulted');
      expect(await answer).to.equal('answered');
      await terminated;
      const later = await settled(c.ping());
      expect(later).to.be.instanceOf(DisconnectedError);
    });
  }
});

describe('apartments/faults: a thread that dies awake gives back its place in the spin gate', () => {
  it('leaves the awake count where it was after apartments die mid-stream, so spinning stays on', async () => {
    ({ rt } = await startRuntime());
    const awake = (): number => Atomics.load(threadGate(), 0);
    await new Promise((r) => setTimeout(r, 50));
    // Other threads of this process may hold places of their own: compare with what was held before.
    const before = awake();
    for (let round = 0; round < 3; round++) {
      const apt = await rt.createApartment({ name: `dies-awake-${round}` });
      const [c, calc] = [await apt.createObject<Crasher>('Crasher'), await apt.createObject<Calc>('Calc', 0)];
      // Calls before and after the exit keep the worker's consumer draining and spinning when it dies.
      const stream = Array.from({ length: 2_000 }, () => settled(calc.add(1)));
      const exit = settled(c.exit(1));
      stream.push(...Array.from({ length: 2_000 }, () => settled(calc.add(1))));
      await Promise.all([exit, ...stream]);
      await eventually(() => {
        expect(apt.state).to.equal('faulted');
      });
    }
    await eventually(() => {
      expect(awake(), 'places still held by dead threads').to.be.at.most(before);
    });
  });
});

describe('apartments/faults: restart policy', () => {
  it('starts a replacement apartment but never resurrects the old objects', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'phoenix', restart: 'on-fault' });
    const c = await apt.createObject<Crasher>('Crasher');
    const restarted = new Promise<[Apartment, Apartment]>((r) => rt!.once('apartment-restarted', (a, b) => r([a, b])));
    void c.exit(1).catch(() => {});
    const [old, replacement] = await restarted;
    expect(old).to.equal(apt);
    expect(replacement.name).to.equal('phoenix');
    expect(replacement.state).to.equal('ready');
    expectDisconnectedByFault(await c.ping().catch((e: unknown) => e), /code 1/);
    expect(apt.replacement, 'the handle the user holds reaches the replacement').to.equal(replacement);
    const refused = await apt.createObject('Crasher').catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(DisconnectedError);
    expect((refused as Error).message).to.contain('apartment.replacement').and.contain(replacement.label);
    const fresh = await replacement.createObject<Crasher>('Crasher');
    expect(await fresh.ping()).to.equal('pong');
  });

  it('gives the replacement the name of the apartment it replaces, also a default one', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ restart: 'on-fault' });
    const c = await apt.createObject<Crasher>('Crasher');
    const restarted = new Promise<[Apartment, Apartment]>((r) => rt!.once('apartment-restarted', (a, b) => r([a, b])));
    void c.exit(1).catch(() => {});
    const [, replacement] = await restarted;
    expect(replacement.id).to.not.equal(apt.id);
    expect(replacement.name).to.equal(apt.name);
  });

  it('does not restart an apartment that was closed on purpose', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ restart: 'on-fault' });
    let restarts = 0;
    rt.on('apartment-restarted', () => restarts++);
    await apt.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(restarts).to.equal(0);
    expect(rt.apartments).to.have.length(0);
    expect(await apt.createObject('Calc').catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
  });
});

describe('apartments/faults: unattended logging', () => {
  it('logs structured entries with the apartment and the causality id of the call they are about, never prompting', async () => {
    const { rt: started, logs } = await startRuntime();
    rt = started;
    const apt = await rt.createApartment();
    const gate = await apt.createObject<Gate>('Gate');
    const relay = await (await rt.createApartment()).createObject<Calc>('Calc');
    await gate.install('throw');
    // The call into the gate is made while serving a callback on the host, so its chain is known here.
    let caller: number | undefined;
    const result = await relay.callBack(async () => {
      caller = currentCall()!.causality;
      return gate.work();
    }, 0);
    expect(result).to.equal('done');
    expect(caller).to.be.a('number');
    await eventually(() => {
      const entry = logs.find((e) => e.message.includes('[message-filter]'));
      expect(entry, 'a message-filter warning').to.not.equal(undefined);
      expect(entry).to.include({ level: 'warn', apartment: apt.id, causality: caller });
    });
  });

  it('logs a deadlock with the causality id of the call chain that was refused', async () => {
    const { rt: started, logs } = await startRuntime();
    rt = started;
    const x = await (await rt.createApartment({ name: 'left' })).createObject<Chain>('Chain');
    const y = await (await rt.createApartment({ name: 'right' })).createObject<Chain>('Chain');
    const relays = await rt.createApartment();
    const [r1, r2] = [await relays.createObject<Calc>('Calc'), await relays.createObject<Calc>('Calc')];
    // Each chain starts in a callback on the host, so its causality id is known here.
    const chains: number[] = [];
    const run = (relay: Remote<Calc>, from: Remote<Chain>, to: Remote<Chain>, i: number): Promise<unknown> => relay.callBack(async () => {
      chains[i] = currentCall()!.causality;
      return from.pingPong(to, 30);
    }, 0);
    const results = await Promise.allSettled([run(r1, x, y, 0), run(r2, y, x, 1)]);
    const refused = results.findIndex((r) => r.status === 'rejected');
    expect((results[refused] as PromiseRejectedResult).reason).to.be.instanceOf(DeadlockError);
    await eventually(() => {
      const entry = logs.find((e) => e.message.startsWith('[deadlock]'));
      expect(entry, 'a deadlock warning').to.not.equal(undefined);
      expect(entry!.causality).to.equal(chains[refused]);
    });
  });
});

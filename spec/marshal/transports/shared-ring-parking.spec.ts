import { expect } from 'chai';
import { SharedRingTransport, type SharedRingHandle } from '../../../marshal/transports/shared-ring-transport.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { G_AWAKE, G_BUSY_ELSEWHERE, G_CORES, spinner, threadGate } from '../../../marshal/transports/thread-spinner.js';
import { echoPair, ids, nextEvent, range, roomInGate, send, startWorker, until, workerStats } from '../fixtures/ring-echo-pair.js';

describe('SharedRingTransport parking and waking', () => {
  it('parks both idle consumers and wakes the peer on a later send', async () => {
    const { transport, got } = echoPair();
    send(transport, 'first', 0);
    await until(() => got.length === 1, 'the first echo');
    await until(() => transport.parkedNow && transport.peerParked, 'both sides parked');
    send(transport, 'later', 1);
    await until(() => got.length === 2, 'the echo of a send to a parked peer');
    expect(ids(got)).to.deep.equal([0, 1]);
    await until(() => transport.parkedNow && transport.peerParked, 'both sides parked again');
  });

  it('still wakes a parked peer after a send to it failed to clone (the failed send flagged it running)', async () => {
    const { transport, got } = echoPair();
    send(transport, 'first', 0);
    await until(() => got.length === 1 && transport.peerParked, 'the worker parked');
    // Too big for the ring and uncloneable: it goes for the port, which wakes a parked consumer.
    expect(() => send(transport, 'fn', 1, [new Uint8Array(128 * 1024), () => 1])).to.throw().with.property('name', 'DataCloneError');
    // Into the ring: the worker must be parked and flagged so, or awake, for this to reach it.
    send(transport, 'later', 2);
    await until(() => got.length === 2, 'the echo of a ring send after the failed one');
    expect(ids(got)).to.deep.equal([0, 2]);
  });

  it('keeps its event loop running while parked: timers fire', async () => {
    const { transport, got } = echoPair();
    send(transport, 'first', 0);
    await until(() => got.length === 1 && transport.parkedNow, 'parked after the echo');
    const fired = await new Promise((r) => setTimeout(() => r(true), 1));
    expect(fired).to.equal(true);
  });
});

describe('SharedRingTransport forced parking (spinMicros 0)', () => {
  it('loses no wake-up over thousands of round trips and pipelined bursts: every item once, in order', async function () {
    // A lost wake-up hangs rather than fails, so the limit is generous; nothing here measures speed.
    this.timeout(120_000);
    const rounds = 5_000;
    const bursts = 20;
    const burst = 250;
    let pingPong = true;
    let waiter: { count: number; resolve: () => void } | undefined;
    const pair = echoPair({ spinMicros: 0 }, {}, (b) => {
      const i = b[0]![1] as number;
      // Send the next round trip from inside the receiver: this side parks right after, racing the echo.
      if (pingPong && i < rounds - 1) send(pair.transport, 'n', i + 1);
      if (waiter && pair.got.length >= waiter.count) waiter.resolve();
    });
    const arrived = (count: number): Promise<void> => new Promise((resolve) => {
      if (pair.got.length >= count) resolve();
      else waiter = { count, resolve };
    });
    send(pair.transport, 'n', 0);
    await arrived(rounds);
    pingPong = false;
    for (let k = 0; k < bursts; k++) {
      const base = rounds + k * burst;
      for (let i = base; i < base + burst; i++) send(pair.transport, 'n', i);
      await arrived(base + burst);
    }
    // An item delivered twice would show up before this last echo, which comes in order.
    const total = rounds + bursts * burst;
    send(pair.transport, 'n', total);
    await arrived(total + 1);
    expect(ids(pair.got)).to.deep.equal(range(0, total + 1));
    expect(pair.transport.hasWork(), 'input left on this side').to.equal(false);
    expect(pair.transport.stats).to.include({ spins: 0, queuedPortItems: 0 });
    expect(pair.transport.stats.parks).to.be.greaterThan(0);
    const far = await workerStats(pair.worker);
    expect(far.hasWork, 'input left on the worker side').to.equal(false);
    expect(far.stats).to.include({ spins: 0, queuedPortItems: 0 });
    expect(far.stats.parks).to.be.greaterThan(0);
  });
});

describe('SharedRingTransport spin back-off', () => {
  it('parks instead of spinning while more threads are awake than cores', async () => {
    const gate = threadGate();
    const cores = Atomics.load(gate, G_CORES);
    const { transport, worker, got } = echoPair({ spinMicros: 200 });
    // Control, with room for every thread (whatever the machine): both consumers do spin.
    Atomics.store(gate, G_CORES, 1 << 20);
    try {
      send(transport, 'n', 0);
      await until(() => got.length === 1, 'the first echo');
      // Read while there is still room: the worker decides to spin after its drain sent the echo.
      expect(transport.stats.spins, 'spins on this side with room').to.be.greaterThan(0);
      expect((await workerStats(worker)).stats.spins, 'spins on the worker side with room').to.be.greaterThan(0);
    } finally {
      Atomics.store(gate, G_CORES, cores);
    }
    // Now report more awake threads than cores, as if other busy apartments were running.
    const extra = cores + 4;
    Atomics.add(gate, G_AWAKE, extra);
    try {
      await until(() => transport.parkedNow && transport.peerParked, 'both sides parked');
      const near = transport.stats;
      const far = (await workerStats(worker)).stats;
      for (let i = 1; i <= 100; i++) {
        send(transport, 'n', i);
        await until(() => got.length === i + 1, `echo ${i}`);
      }
      for (let i = 101; i <= 300; i++) send(transport, 'n', i);
      await until(() => got.length === 301, 'a burst of 200 echoes');
      const nearAfter = transport.stats;
      const farAfter = (await workerStats(worker)).stats;
      expect(nearAfter.spins - near.spins, 'spins on this side').to.equal(0);
      expect(farAfter.spins - far.spins, 'spins on the worker side').to.equal(0);
      expect(nearAfter.parks - near.parks, 'parks on this side').to.be.greaterThan(0);
      expect(farAfter.parks - far.parks, 'parks on the worker side').to.be.greaterThan(0);
    } finally {
      Atomics.sub(gate, G_AWAKE, extra);
    }
    expect(ids(got)).to.deep.equal(range(0, 301));
  });
});

describe('SharedRingTransport as a port link while nothing may spin', () => {
  it('sends a parked peer its items over the port alone and delivers them in order, and goes back to the ring once spinning may pay', async () => {
    const gate = threadGate();
    const { transport, worker, got } = echoPair({ spinMicros: 200 });
    send(transport, 'n', 0);
    await until(() => got.length === 1, 'the first echo');
    // More awake threads than cores, as if other busy apartments ran: the gate closes.
    const extra = Atomics.load(gate, G_CORES) + 4;
    Atomics.add(gate, G_AWAKE, extra);
    let i = 1;
    try {
      expect(spinner.allowed(), 'spinning allowed').to.equal(false);
      await until(() => transport.parkedNow && transport.peerParked, 'both sides parked');
      const near = transport.stats;
      const far = (await workerStats(worker)).stats;
      for (; i <= 100; i++) {
        send(transport, 'n', i);
        await until(() => got.length === i + 1, `echo ${i}`);
      }
      const nearAfter = transport.stats;
      const farAfter = (await workerStats(worker)).stats;
      // Each side found the other parked at every send: every item went over the port, none marked.
      expect(nearAfter.portSends - near.portSends, 'items this side sent over the port').to.equal(100);
      expect(nearAfter.unmarkedPortSends - near.unmarkedPortSends, 'of them, sent without a marker').to.equal(100);
      expect(farAfter.portSends - far.portSends, 'echoes the worker sent over the port').to.equal(100);
      expect(farAfter.unmarkedPortSends - far.unmarkedPortSends, 'of them, sent without a marker').to.equal(100);
      // Delivered straight from the port message and parked again after each, never spinning.
      expect(nearAfter.parkedDeliveries - near.parkedDeliveries, 'echoes delivered as by a port link').to.equal(100);
      expect(farAfter.parkedDeliveries - far.parkedDeliveries, 'items the worker delivered as by a port link').to.equal(100);
      expect(nearAfter.spins - near.spins, 'spins on this side').to.equal(0);
      expect(farAfter.spins - far.spins, 'spins on the worker side').to.equal(0);
      expect(nearAfter.parks - near.parks, 'parks on this side').to.be.at.least(100);
      expect(farAfter.parks - far.parks, 'parks on the worker side').to.be.at.least(100);
      // A burst mixes the two paths (the first item wakes the peer over the port, the rest find it
      // running and go into the ring): still each item once, in order.
      for (; i <= 400; i++) send(transport, 'n', i);
      await until(() => got.length === 401, 'a burst of 300 echoes');
      await until(() => transport.parkedNow && transport.peerParked, 'both sides parked after the burst');
    } finally {
      Atomics.sub(gate, G_AWAKE, extra);
    }
    expect(ids(got)).to.deep.equal(range(0, 401));
    expect(transport.stats.queuedPortItems, 'port items left waiting here').to.equal(0);
    // Room again, whatever the machine: a parked peer is sent its items through the ring and woken.
    roomInGate();
    const near = transport.stats;
    for (; i <= 450; i++) {
      send(transport, 'n', i);
      await until(() => got.length === i + 1, `echo ${i}`);
    }
    expect(transport.stats.portSends - near.portSends, 'items sent over the port with the gate open').to.equal(0);
    expect(transport.stats.parkedDeliveries - near.parkedDeliveries, 'items delivered as by a port link with the gate open').to.equal(0);
    expect(ids(got)).to.deep.equal(range(0, 451));
    const far = await workerStats(worker);
    expect(far.hasWork, 'input left on the worker side').to.equal(false);
    expect(far.stats.queuedPortItems, 'port items left waiting on the worker side').to.equal(0);
  });
});

describe('SharedRingTransport spin back-off for other processes', () => {
  let hogs: ChildProcess[] = [];
  afterEach(() => {
    for (const hog of hogs) hog.kill('SIGKILL');
    hogs = [];
  });

  it('stops spinning while other processes keep the cores busy (Linux: read from /proc)', async () => {
    const gate = threadGate();
    const cores = Atomics.load(gate, G_CORES);
    const { transport, got } = echoPair({ spinMicros: 200 });
    // One CPU-bound process per core: fewer than two cores are left for a spinner and its peer.
    hogs = Array.from({ length: cores }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    // The figure is sampled only while some transport is awake: keep echoing until it shows them.
    let i = 0;
    const seen = (): boolean => (process.platform === 'linux' ? Atomics.load(gate, G_BUSY_ELSEWHERE) >= cores - 1 : i >= 200);
    while (!seen()) {
      send(transport, 'n', i);
      await until(() => got.length === i + 1, `echo ${i}`);
      i++;
    }
    if (process.platform !== 'linux') {
      expect(Atomics.load(gate, G_BUSY_ELSEWHERE), 'no figure where /proc is missing').to.equal(0);
      return;
    }
    expect(spinner.allowed(), 'spinning allowed beside the busy processes').to.equal(false);
    const before = transport.stats;
    for (let k = 0; k < 50; k++, i++) {
      send(transport, 'n', i);
      await until(() => got.length === i + 1, `echo ${i}`);
    }
    expect(transport.stats.spins - before.spins, 'spins on this side beside the busy processes').to.equal(0);
    expect(ids(got)).to.deep.equal(range(0, i));
  });
});

describe('SharedRingTransport peer crash while parked', () => {
  it('tells this side when the worker throws while both are parked', async () => {
    const { transport, worker, got, closed, closeCount } = echoPair();
    send(transport, 'x', 0);
    await until(() => got.length === 1 && transport.parkedNow && transport.peerParked, 'both parked');
    const crashing = nextEvent(worker, 'crashing');
    worker.postMessage({ cmd: 'throw' });
    expect(await crashing, 'the worker was still parked when it threw').to.deep.equal({ event: 'crashing', parked: true });
    await closed;
    expect(closeCount()).to.equal(1);
    expect(() => send(transport, 'after', 1)).to.not.throw();
  });

  it('tells the worker when this side closes while the worker is parked', async () => {
    const { transport, worker, got, closed } = echoPair();
    send(transport, 'x', 0);
    await until(() => got.length === 1 && transport.peerParked, 'the worker parked');
    expect((await workerStats(worker)).parked).to.equal(true);
    const workerClosed = nextEvent(worker, 'closed');
    const exited = new Promise((r) => worker.once('exit', r));
    transport.close();
    expect(await workerClosed).to.deep.equal({ event: 'closed' });
    await closed;
    expect(await exited).to.equal(0);
  });

  it('tells this side when the worker is terminated while both are parked', async () => {
    const { transport, worker, got, closed, closeCount } = echoPair();
    send(transport, 'x', 0);
    await until(() => got.length === 1 && transport.parkedNow && transport.peerParked, 'both parked');
    await worker.terminate();
    await closed;
    expect(closeCount()).to.equal(1);
  });

  for (const [victim, death] of [['creator', 'terminate'], ['attacher', 'terminate'], ['creator', 'throw'], ['attacher', 'throw']] as const) {
    it(`tells the ${victim === 'creator' ? 'attaching' : 'creating'} worker when the ${victim} ${death === 'throw' ? 'throws' : 'is terminated'} while both are parked`, async () => {
      const creator = startWorker({});
      const handleEvent = nextEvent(creator, 'handle');
      creator.postMessage({ cmd: 'create' });
      const { handle } = (await handleEvent) as unknown as { handle: SharedRingHandle };
      const attacher = startWorker({});
      const attached = nextEvent(attacher, 'attached');
      attacher.postMessage({ cmd: 'attach', handle }, [handle.port]);
      await attached;
      const pong = nextEvent(creator, 'pong');
      creator.postMessage({ cmd: 'ping' });
      await pong;
      let parked = false;
      while (!parked) {
        const state = nextEvent(creator, 'state');
        creator.postMessage({ cmd: 'state' });
        const s = await state;
        parked = s.parked === true && s.peerParked === true;
      }
      const [dead, survivor] = victim === 'creator' ? [creator, attacher] : [attacher, creator];
      const closed = nextEvent(survivor, 'closed');
      if (death === 'terminate') await dead.terminate();
      else {
        const crashing = nextEvent(dead, 'crashing');
        dead.postMessage({ cmd: 'throw' });
        expect(await crashing, `the ${victim} was still parked when it threw`).to.deep.equal({ event: 'crashing', parked: true });
      }
      expect(await closed).to.deep.equal({ event: 'closed' });
    });
  }
});

/** Transports registered here that were garbage collected (the registry must outlive them). */
const collectedTransports = new Set<string>();
const finalization = new FinalizationRegistry<string>((name) => collectedTransports.add(name));

/** Close a pair whose two sides are parked; this side's transport is registered as `name`. */
async function closeWhileParked(name: string): Promise<void> {
  const { transport, handle } = SharedRingTransport.create();
  finalization.register(transport, name);
  const worker = startWorker({ handle }, [handle.port]);
  const got: unknown[] = [];
  const closed = new Promise<void>((resolve) => transport.listen((b) => got.push(b), () => resolve()));
  send(transport, 'x', 0);
  await until(() => got.length === 1 && transport.parkedNow && transport.peerParked, 'both parked');
  const workerClosed = nextEvent(worker, 'closed');
  transport.close();
  await Promise.all([closed, workerClosed]);
}

describe('SharedRingTransport close while parked', () => {
  it('lets go of the transport and its ring memory once closed', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'specs run with --expose-gc').to.be.a('function');
    await closeWhileParked('parked at close');
    // A pending Atomics.waitAsync would hold the closed transport (and its ring) for good.
    for (let i = 0; i < 50 && !collectedTransports.has('parked at close'); i++) {
      gc!();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(collectedTransports.has('parked at close'), 'the closed transport was garbage collected').to.equal(true);
  });
});

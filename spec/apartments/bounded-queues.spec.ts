import { expect } from 'chai';
import { CallRejectedError, InvalidArgumentError, callOptions, type Runtime } from '../../lib/index.js';
import type { Crasher, Janitor } from '../fixtures/crasher.js';
import type { FloodingCaller } from '../fixtures/flooding-caller.js';
import { holdTurn } from '../fixtures/held-turn.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime;
const MB = 1024 * 1024;


async function hostHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc!();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

describe('apartments/bounded-queues: calls beyond an object\'s queue limit are refused at once with retry-later', () => {
  it('keeps memory bounded on both sides under a flood, and a retry policy gets through once there is room', async () => {
    expect(globalThis.gc, 'specs run with --expose-gc').to.be.a('function');
    ({ rt } = await startRuntime());
    const limit = 1_000;
    const flood = 40_000;
    const apt = await rt.createApartment({ name: 'flooded', callLimits: { maxQueuedPerObject: limit } });
    const crasher = await apt.createObject<Crasher>('Crasher');
    const janitor = await apt.createObject<Janitor>('Janitor');
    const { flag, held } = await holdTurn(crasher);
    const calleeBefore = await janitor.heapUsed();
    const hostBefore = await hostHeap();

    const kib = 'x'.repeat(1024);
    let done = 0;
    let refused = 0;
    const other: unknown[] = [];
    // Outcomes are counted, not kept: the spec itself must not hold 40 000 errors.
    const settledAll = new Promise<void>((resolve) => {
      const settle = (): void => {
        if (++done === flood) resolve();
      };
      for (let i = 0; i < flood; i++) {
        crasher.take(kib).then(settle, (e: unknown) => {
          if (e instanceof CallRejectedError && e.code === 'RPC_E_SERVERCALL_RETRYLATER' && e.message.startsWith('[queue-full]')) refused++;
          else if (other.length < 5) other.push(e);
          settle();
        });
      }
    });
    // Everything past the limit is refused without waiting for the held turn.
    await eventually(() => {
      expect(other).to.deep.equal([]);
      expect(refused).to.equal(flood - limit);
    }, 120_000);
    const retried = crasher.take('retried', callOptions({ retry: { attempts: 1_000_000, delayMs: 5 } }));
    const calleeGrowth = (await janitor.heapUsed()) - calleeBefore;
    const hostGrowth = (await hostHeap()) - hostBefore;
    // Unbounded, 40 000 queued 1 KiB calls cost about 80 MB in the callee and 40 MB in the host.
    expect(calleeGrowth, 'callee heap growth').to.be.lessThan(20 * MB);
    expect(hostGrowth, 'host heap growth').to.be.lessThan(20 * MB);
    expect((await apt.stats()).queuedCalls).to.equal(limit);

    Atomics.store(flag, 0, 1);
    expect(await held).to.equal(true);
    await settledAll;
    expect(refused).to.equal(flood - limit);
    expect(await retried).to.equal('retried'.length);
    const stats = await apt.stats();
    expect(stats.queuedCalls).to.equal(0);
    expect(stats.refusedCalls).to.be.at.least(flood - limit);
  });
});

describe('apartments/bounded-queues: one caller cannot take a whole apartment\'s queue', () => {
  it('refuses a flooding caller past its share with retry-later, and keeps the rest of the queue for the others', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('FloodingCaller', { module: fixture('flooding-caller.js'), export: 'FloodingCaller' });
    // A queue of 8: one caller may fill 6 of it, a quarter is kept for the others.
    const shared = await rt.createApartment({ name: 'shared', callLimits: { maxQueuedPerApartment: 8 } });
    const crasher = await shared.createObject<Crasher>('Crasher');
    const plugin = await (await rt.createApartment({ name: 'plugin' })).createObject<FloodingCaller>('FloodingCaller');
    const { flag, held } = await holdTurn(crasher);
    const flooding = plugin.flood(crasher, 20);
    await eventually(async () => {
      expect((await shared.stats()).refusedCalls).to.equal(14);
    }, 60_000);
    expect((await shared.stats()).queuedCalls, 'the plugin fills its share').to.equal(6);
    // The host's calls still find room; past the apartment's whole queue, it is refused too.
    const mine = [crasher.take('ab'), crasher.take('abc')];
    const third = await crasher.take('abcd').catch((e: unknown) => e);
    expect(third, String(third)).to.be.instanceOf(CallRejectedError);
    expect((third as Error).message).to.match(/^\[queue-full\].*maxQueuedPerApartment/);
    Atomics.store(flag, 0, 1);
    expect(await held).to.equal(true);
    expect(await Promise.all(mine)).to.deep.equal([2, 3]);
    expect(await flooding).to.deep.equal({ ran: 6, 'refused for its share': 14 });
    const limits = await rt.createApartment({ callLimits: { maxQueuedPerCaller: 0 } }).catch((e: unknown) => e);
    expect(limits, String(limits)).to.be.instanceOf(InvalidArgumentError);
    expect((limits as Error).message).to.match(/callLimits\.maxQueuedPerCaller must be a whole number/);
  });
});

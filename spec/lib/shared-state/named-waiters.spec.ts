import { expect } from 'chai';
import { AtomicCounter, CallCanceledError, CallTimeoutError, callOptions, named, once, type Remote, type Runtime } from '../../../lib/index.js';
import type { Racer } from '../../fixtures/shared-state-classes.js';
import { reportedWait } from '../../fixtures/reported-wait.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

/** A promise the spec settles when it chooses. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A Racer in an apartment of its own whose calls out give up after `timeoutMs`. */
async function racer(rt: Runtime, timeoutMs: number): Promise<Remote<Racer>> {
  return (await rt.createApartment({ defaultTimeoutMs: timeoutMs })).createObject<Racer>('Racer');
}

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime();
  rt.registerClass('Racer', { module: fixture('shared-state-classes.js'), export: 'Racer' });
  return rt;
}

/** The class name of what `p` rejects with, or 'fulfilled'. */
const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'fulfilled', (err: unknown) => (err as Error).constructor.name);

// The registry answers a wait for named memory or a once() value when the creator or builder is done.
// A waiter whose call was given up (its caller's deadline passed, or it was cancelled) must leave
// the queue: handed creation, it would create nothing and every later opener would wait for good;
// handed a handle, nobody would ever close it.
describe('lib/shared-state: a named-object waiter whose call was given up leaves the queue', () => {
  it('hands a once() value whose builder failed to a later caller, not to a waiter that timed out', async () => {
    const rt = await start();
    const quitter = await racer(rt, 1_000);
    const later = await racer(rt, 10_000);
    const builder = gate();
    const building = outcome(once('slow-config', async () => {
      await builder.opened;
      throw new Error('the builder failed');
    }));
    expect(await outcome(quitter.buildOnce('slow-config', new AtomicCounter())), 'the waiter gave up at its deadline').to.equal(CallTimeoutError.name);
    builder.open();
    expect(await building).to.equal('Error');
    // Before: the build went to the waiter that had timed out, which never built; this caller waited until its deadline.
    const builds = new AtomicCounter();
    expect(await later.buildOnce('slow-config', builds)).to.match(/^built by /);
    expect(builds.value).to.equal(1);
  });

  it('hands named memory whose creator failed to a later opener, not to a waiter that timed out', async () => {
    const rt = await start();
    const quitter = await racer(rt, 1_000);
    const later = await racer(rt, 10_000);
    const creator = gate();
    const creating = outcome(named.memory('slow-segment', 8, async () => {
      await creator.opened;
      throw new Error('the creator failed');
    }));
    expect(await outcome(quitter.openMemory('slow-segment')), 'the waiter gave up at its deadline').to.equal(CallTimeoutError.name);
    creator.open();
    expect(await creating).to.equal('Error');
    // Before: creation went to the waiter that had timed out, and this opener waited until its deadline.
    expect(await later.openMemory('slow-segment')).to.deep.equal({ created: true, seen: 4242 });
  });

  it('gives no handle on published named memory to a waiter that timed out, so the last close releases it', async () => {
    const rt = await start();
    const quitter = await racer(rt, 1_000);
    const creator = gate();
    const creating = named.memory('slow-published', 8, async () => {
      await creator.opened;
    });
    expect(await outcome(quitter.openMemory('slow-published')), 'the waiter gave up at its deadline').to.equal(CallTimeoutError.name);
    creator.open();
    const handle = await creating;
    await handle.close();
    // Before: the waiter that had timed out was counted as holding a handle it never saw, and the memory stayed.
    expect(rt.isNamedOpen('slow-published')).to.equal(false);
  });
});

// Host code on the main thread waits for a once() value or named memory with no call to carry a
// deadline: a builder or creator in a plugin that never finishes held it for good.
describe('lib/shared-state: the host does not wait for good on a builder that never finishes', () => {
  for (const kind of ['once', 'memory'] as const) {
    it(`fails the host's ${kind === 'once' ? 'once()' : 'named.memory()'} with CallTimeoutError at the main apartment's deadline`, async () => {
      const { rt } = await startRuntime({ defaultTimeoutMs: 5_000 });
      rt.registerClass('Racer', { module: fixture('shared-state-classes.js'), export: 'Racer' });
      const plugin = await (await rt.createApartment()).createObject<Racer>('Racer');
      await plugin.beginForever(kind, `forever-${kind}`);
      const waited = kind === 'once' ? once(`forever-${kind}`, () => 'built by the host') : named.memory(`forever-${kind}`, 8);
      const err = await waited.then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(CallTimeoutError);
      expect((err as Error).message).to.contain('[named-timeout]');
    });
  }
});

// A worker apartment's wait for a once() value or named memory being built elsewhere ended at its own
// call deadline, not when the call it served was cancelled: the cancelled call's wait went on, and
// was handed the value or a handle nobody would use.
describe('lib/shared-state: a named-object wait an apartment makes while it serves a call', () => {
  for (const kind of ['once', 'memory'] as const) {
    it(`ends at once with CallCanceledError when that call is cancelled (${kind === 'once' ? 'once()' : 'named.memory()'}), and holds nothing`, async () => {
      const rt = await start();
      const waiter = await racer(rt, 30_000);
      const builder = gate();
      const name = `held-${kind}`;
      const building = kind === 'once'
        ? once(name, async () => {
          await builder.opened;
          return 'built by the host';
        })
        : named.memory(name, 8, async (memory) => {
          await builder.opened;
          new Int32Array(memory)[0] = 7;
        });
      const wait = reportedWait<{ name: string; message: string } | 'granted'>();
      const cancel = new AbortController();
      const served = waiter.waitForNamed(kind, name, wait.onStarted, wait.onEnded, callOptions({ signal: cancel.signal })).catch((e: unknown) => e);
      await wait.started;
      cancel.abort();
      expect(await served).to.be.instanceOf(CallCanceledError);
      const outcome = await wait.ended();
      expect(outcome, 'the wait ended with its call').to.not.equal('granted');
      expect((outcome as { name: string }).name).to.equal('CallCanceledError');
      expect((outcome as { message: string }).message).to.match(new RegExp(`^\\[named-canceled\\] the wait for '${name}' was given up`));
      builder.open();
      const built = await building;
      if (kind === 'once') {
        expect(built).to.equal('built by the host');
      } else {
        await (built as Awaited<ReturnType<typeof named.memory>>).close();
        expect(rt.isNamedOpen(name), 'the cancelled wait was given no handle').to.equal(false);
      }
    });
  }
});

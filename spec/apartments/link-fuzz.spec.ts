import { expect } from 'chai';
import fc from 'fast-check';
import { release, type Apartment, type Remote, type Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { HostilePlugin } from '../fixtures/hostile-plugin.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';
import { aBatch, aRecord, fuzzSettings } from '../fixtures/wire-arbitraries.js';

// Property-based fuzzing with real threads: a plugin apartment throws random and mutated records,
// batches and values at its link to the host, on both transports. Whatever it sends, the host and
// a bystander keep serving, the plugin's link is faulted or the messages refused, and the host's
// memory does not grow with what the plugin sent. Few cases by default (each starts a thread);
// FUZZ_RUNS runs more.

const settle = (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => e);

/** What one case sends: raw ring records or raw port batches, and batches through the runtime's own channel. */
const anAttack = fc.record({
  raw: fc.array(fc.oneof(aRecord.map((r) => ({ record: r })), aBatch.map((b) => ({ batch: b }))), { minLength: 1, maxLength: 4 }),
  sent: fc.array(aBatch, { maxLength: 2 }),
});

async function heapUsed(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

async function attackOnce(rt: Runtime, transport: 'port' | 'shared-memory', attack: { raw: ({ record: Uint8Array } | { batch: unknown })[]; sent: unknown[] }): Promise<void> {
  const plugin: Apartment = await rt.createApartment({ name: 'plugin' });
  const hostile: Remote<HostilePlugin> = await plugin.createObject<HostilePlugin>('HostilePlugin');
  for (const item of attack.raw) {
    if ('record' in item && transport === 'shared-memory') await settle(hostile.rawRecord(0, item.record));
    else if ('batch' in item && transport === 'port') await settle(hostile.rawBatch(0, item.batch));
  }
  for (const batch of attack.sent) await settle(hostile.send(0, (Array.isArray(batch) ? batch : [batch]) as never[]));
  // The plugin either still answers (its garbage was refused message by message) or was cut off.
  await settle(hostile.linkTo(0));
  expect(plugin.state).to.be.oneOf(['ready', 'faulted']);
  release(hostile);
  await plugin.close();
}

describe('apartments/link-fuzz: random input from a plugin never takes down the host or a bystander', () => {
  for (const transport of ['shared-memory', 'port'] as const) {
    it(`on a ${transport} link: host and bystander serve, the plugin is refused or cut off, memory stays bounded`, async () => {
      const { rt } = await startRuntime({ transport });
      rt.registerClass('HostilePlugin', { module: fixture('hostile-plugin.js'), export: 'HostilePlugin' });
      const bystander = await (await rt.createApartment({ name: 'bystander' })).createObject<Calc>('Calc');
      await attackOnce(rt, transport, { raw: [{ batch: [] }], sent: [] });
      const before = await heapUsed();
      let served = 0;
      await fc.assert(fc.asyncProperty(anAttack, async (attack) => {
        await attackOnce(rt, transport, attack);
        expect(await bystander.add(1), 'the bystander still serves').to.equal(++served);
        const fresh = await rt.createObject<Calc>('Calc', 1);
        expect(await fresh.add(1), 'the host still creates and calls objects').to.equal(2);
        release(fresh);
      }), fuzzSettings(4));
      const grown = (await heapUsed()) - before;
      expect(grown, `the host's heap grew by ${grown} bytes`).to.be.below(32 * 1024 * 1024);
      await eventually(() => {
        expect(rt.stats().pendingCalls, 'no call left hanging').to.equal(0);
      });
      release(bystander);
    });
  }
});

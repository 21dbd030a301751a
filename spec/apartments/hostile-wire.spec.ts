import { expect } from 'chai';
import { ApartmentFaultedError, ProtocolError, type Remote } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { BadRecord } from '../fixtures/hostile-plugin.js';
import { hostileScene, type HostileScene } from '../fixtures/hostile-scene.js';
import { eventually } from '../fixtures/runtime-fixture.js';

// A plugin writes what no well-behaved apartment writes into its links: the apartment at the other
// end faults that one link (a logged ProtocolError naming the plugin), and the host, bystander
// apartments and every other link keep running.

interface Scene extends HostileScene {
  calc: Remote<Calc>;
  /** Resolves with the error the plugin apartment faults with. */
  pluginFault: Promise<ApartmentFaultedError>;
}

async function scene(transport: 'port' | 'shared-memory'): Promise<Scene> {
  const base = await hostileScene({ transport });
  // Nothing hostile has run yet: the plugin can only fault once a spec makes it misbehave.
  const pluginFault = new Promise<ApartmentFaultedError>((resolve) => {
    base.rt.on('apartment-faulted', (apt, err) => {
      if (apt === base.plugin) resolve(err);
    });
  });
  const calc = await base.bystander.createObject<Calc>('Calc');
  return { ...base, calc, pluginFault };
}

/** The host, the bystander and new work all still run. */
async function expectEveryoneElseRuns(s: Scene): Promise<void> {
  expect(await s.calc.add(2)).to.equal(2);
  const fresh = await s.rt.createObject<Calc>('Calc', 40);
  expect(await fresh.add(2)).to.equal(42);
  const another = await (await s.rt.createApartment({ name: 'later' })).createObject<Calc>('Calc', 1);
  expect(await another.add(1)).to.equal(2);
}

/** The plugin's link to the host was faulted with a ProtocolError that the log names it in. */
async function expectPluginCutOff(s: Scene, cause: RegExp): Promise<void> {
  const err = await s.pluginFault;
  expect(err.cause).to.be.instanceOf(ProtocolError);
  expect(String((err.cause as Error).message)).to.match(cause);
  expect(s.plugin.state).to.equal('faulted');
  const logged = s.logs.filter((e) => e.level === 'warn' && /\[protocol(-version)?\]/.test(e.message) && e.message.includes(s.plugin.label));
  expect(logged.length, 'a logged ProtocolError naming the plugin').to.be.greaterThan(0);
}

const records: [BadRecord, RegExp][] = [
  ['unknown-tag', /unknown value tag/],
  ['truncated-array', /truncated/],
  ['deep-nesting', /nests deeper/],
  ['bogus-length', /record length/],
];

describe('apartments/hostile-wire: a malformed ring record faults only the link it came on', () => {
  for (const [kind, cause] of records) {
    it(`a record with ${kind} toward the host faults the plugin; the host and a bystander keep running`, async () => {
      const s = await scene('shared-memory');
      await s.hostile.badRecord(0, kind).catch(() => undefined);
      await expectPluginCutOff(s, cause);
      await expectEveryoneElseRuns(s);
    });
  }

  it('a record with deep-nesting toward a bystander apartment cuts that link only; the bystander keeps serving', async () => {
    const s = await scene('shared-memory');
    await s.hostile.linkTo(s.bystander.id);
    await s.hostile.badRecord(s.bystander.id, 'deep-nesting');
    await eventually(() => {
      const logged = s.logs.filter((e) => e.apartment === s.bystander.id && /\[protocol(-version)?\]/.test(e.message) && e.message.includes(s.plugin.label));
      expect(logged.length, 'the bystander logs the fault with the plugin named').to.be.greaterThan(0);
    }, 60_000);
    await expectEveryoneElseRuns(s);
    expect(s.plugin.state, 'the host still talks to the plugin').to.equal('ready');
  });
});

describe('apartments/hostile-wire: port items and batches are bounded', () => {
  it('items posted on the ring\'s companion port far ahead of their turn fault the link before they pile up', async () => {
    const s = await scene('shared-memory');
    await s.hostile.floodPort(0, 300, 16 * 1024).catch(() => undefined);
    await expectPluginCutOff(s, /port items|ahead of their turn/);
    await expectEveryoneElseRuns(s);
  });

  it('a batch of more messages than any apartment sends faults a port link', async () => {
    const s = await scene('port');
    await s.hostile.rawBatch(0, new Array(5_000).fill([4, 'runtime.log', [], 0])).catch(() => undefined);
    await expectPluginCutOff(s, /batch of 5000 messages/);
    await expectEveryoneElseRuns(s);
  });

  it('a stream of malformed messages is logged, then faults the link instead of flooding the log', async () => {
    const s = await scene('port');
    await s.hostile.rawBatch(0, new Array(200).fill([250, 1, 2])).catch(() => undefined);
    await expectPluginCutOff(s, /malformed messages/);
    const logged = s.logs.filter((e) => e.message.includes('malformed message from'));
    expect(logged.length, 'at most the bound is logged one by one').to.be.at.most(32);
    await expectEveryoneElseRuns(s);
  });
});

describe('apartments/hostile-wire: the protocol version is checked', () => {
  for (const transport of ['port', 'shared-memory'] as const) {
    it(`a Ready with protocol version 99 faults the link with RPC_E_VERSION_MISMATCH (${transport})`, async () => {
      const s = await scene(transport);
      await s.hostile.readyWithVersion(0, 99).catch(() => undefined);
      await expectPluginCutOff(s, /protocol 99/);
      expect((await s.pluginFault).cause).to.include({ code: 'RPC_E_VERSION_MISMATCH' });
      await expectEveryoneElseRuns(s);
    });
  }
});

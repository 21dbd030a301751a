import { expect } from 'chai';
import { CallCanceledError, CallTimeoutError, callOptions, type Runtime } from '../../lib/index.js';
import type { Gate } from '../fixtures/admission-classes.js';
import type { Calc } from '../fixtures/calc.js';
import type { Holder } from '../fixtures/holder.js';
import { eventually, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

describe('apartments/deadlines: an apartment\'s own default deadline', () => {
  it('applies ApartmentOptions.defaultTimeoutMs to the calls made from that apartment, not to the host\'s', async () => {
    ({ rt } = await startRuntime());
    const calc = await (await rt.createApartment({ name: 'slow' })).createObject<Calc>('Calc');
    const holder = await (await rt.createApartment({ name: 'hasty', defaultTimeoutMs: 100 })).createObject<Holder>('Holder');
    await holder.keep(calc);
    const err = await holder.callKept(0, 'slowAdd', 1, 1_000).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as Error).message).to.contain("'slowAdd'");
    // The host's call keeps the runtime's 30 s deadline: it waits its turn behind the first and completes.
    expect(await calc.slowAdd(1, 300)).to.equal(2);
  });
});

describe('apartments/deadlines: cancelling a call that waits to be retried', () => {
  it('rejects at once with CallCanceledError instead of waiting out the retry delay', async () => {
    ({ rt } = await startRuntime());
    const gate = await (await rt.createApartment()).createObject<Gate>('Gate');
    await gate.install('retry-later');
    const ac = new AbortController();
    // A delay far beyond the spec's own timeout: only an immediate rejection lets this spec pass.
    const pending = gate.work(callOptions({ signal: ac.signal, retry: { attempts: 3, delayMs: 60_000 } })).catch((e: unknown) => e);
    // seen() answers after the refusal of work() on the same link: the caller is now in its retry delay.
    await eventually(async () => {
      expect(await gate.seen()).to.deep.equal(['work:top-level']);
    });
    ac.abort();
    const err = await pending;
    expect(err).to.be.instanceOf(CallCanceledError);
    expect((err as Error).message).to.match(/^\[canceled\].*'work'.*retry/);
    expect(await gate.seen()).to.deep.equal(['work:top-level']);
  });
});

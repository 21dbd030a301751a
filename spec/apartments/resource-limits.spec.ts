import { expect } from 'chai';
import { InvalidArgumentError } from '../../lib/index.js';
import { rejection } from '../fixtures/process-fixture.js';
import { startRuntime } from '../fixtures/runtime-fixture.js';

describe('apartments/resource-limits: limits a thread cannot start with are refused before it starts', () => {
  it('refuses each with InvalidArgumentError naming the limit and its range, starts nothing, and the host works on', async () => {
    const { rt } = await startRuntime();
    // Without the check: the first aborted the whole host process (V8 could not reserve the code
    // range), the second failed with a bare EAGAIN, the third faulted the thread at its start, the
    // fourth and fifth were ignored.
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ codeRangeSizeMb: 1e9 }, /resourceLimits\.codeRangeSizeMb must be a number of MB from 1 to 1024; got 1000000000/],
      [{ stackSizeMb: 100_000 }, /resourceLimits\.stackSizeMb must be a number of MB from 1 to 1024/],
      [{ maxOldGenerationSizeMb: 0.5 }, /resourceLimits\.maxOldGenerationSizeMb must be a number of MB from 16 to 1048576; got 0\.5/],
      [{ maxYoungGenerationSizeMb: 'x' }, /resourceLimits\.maxYoungGenerationSizeMb must be a number of MB from 1 to 4096; got string/],
      [{ heapMb: 64 }, /resourceLimits\.heapMb is not a worker limit; use maxOldGenerationSizeMb, maxYoungGenerationSizeMb, codeRangeSizeMb, stackSizeMb/],
    ];
    for (const [limits, message] of refused) {
      const err = await rejection(Promise.resolve().then(() => rt.createApartment({ resourceLimits: limits })));
      expect(err, JSON.stringify(limits)).to.be.instanceOf(InvalidArgumentError);
      expect(err.message, JSON.stringify(limits)).to.match(/^\[resource-limits\] /).and.match(message);
      expect((err as InvalidArgumentError).parameter).to.equal('resourceLimits');
    }
    expect(rt.apartments, 'nothing was started').to.have.length(0);
    const apt = await rt.createApartment({ resourceLimits: { maxOldGenerationSizeMb: 64, stackSizeMb: 8, codeRangeSizeMb: 64, maxYoungGenerationSizeMb: 16 } });
    const calc = await apt.createObject<{ add(n: number): Promise<number> }>('Calc');
    expect(await calc.add(2), 'limits in range start as before').to.be.a('number');
  });
});

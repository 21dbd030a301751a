import { expect } from 'chai';
import { apartment, both, free, rental, scriptEngine, single } from '../../../lib/contracts/builtins.js';
import { defineContract, getContract, type CreatorKind, type CreationMode, type Placement } from '../../../apartments/contract.js';
import { InvalidArgumentError } from '../../../marshal/errors.js';

// COM's ThreadingModel × creator matrix, for in-process creation; external creation
// sends apartment, both and script-engine classes to the assignment policy and single ones to the
// main apartment. free goes to the pool (a pool thread keeps its own); rental is registered in the
// main apartment whoever creates it.
const matrix: [CreatorKind, CreationMode, Record<string, Placement['kind']>][] = [
  ['main', 'in-process', { single: 'creator', apartment: 'creator', both: 'creator', free: 'free-pool', rental: 'main', 'script-engine': 'creator' }],
  ['worker', 'in-process', { single: 'main', apartment: 'creator', both: 'creator', free: 'free-pool', rental: 'main', 'script-engine': 'creator' }],
  ['pool', 'in-process', { single: 'main', apartment: 'host', both: 'creator', free: 'creator', rental: 'main', 'script-engine': 'creator' }],
  ['main', 'external', { single: 'creator', apartment: 'assigned', both: 'assigned', free: 'free-pool', rental: 'main', 'script-engine': 'assigned' }],
  ['worker', 'external', { single: 'main', apartment: 'assigned', both: 'assigned', free: 'free-pool', rental: 'main', 'script-engine': 'assigned' }],
];

describe('lib/contracts: placement follows the COM matrix', () => {
  for (const [creator, mode, expected] of matrix) {
    for (const contract of [single, apartment, both, free, rental, scriptEngine]) {
      it(`${contract.name} created ${mode} by a ${creator} apartment → ${expected[contract.name]}`, () => {
        expect(contract.place({ creator, mode, hasMainApartment: true }).kind).to.equal(expected[contract.name]);
      });
    }
  }

  it('sends a single class to a new host apartment when there is no main apartment', () => {
    expect(single.place({ creator: 'pool', mode: 'in-process', hasMainApartment: false }).kind).to.equal('host');
  });
});

describe('lib/contracts: defineContract', () => {
  it('registers a custom contract that getContract finds', () => {
    const pinned = defineContract({ name: 'spec-pinned-main', marshal: 'standard', place: () => ({ kind: 'main' }) });
    expect(getContract('spec-pinned-main')).to.equal(pinned);
    expect(pinned.place({ creator: 'worker', mode: 'external', hasMainApartment: true }).kind).to.equal('main');
  });

  it('refuses duplicates, bad names, missing place and unknown marshal rules', () => {
    expect(() => defineContract({ name: 'apartment', marshal: 'standard', place: () => ({ kind: 'main' }) })).to.throw(InvalidArgumentError, /already defined/);
    expect(() => defineContract({ name: 'Bad Name', marshal: 'standard', place: () => ({ kind: 'main' }) })).to.throw(InvalidArgumentError);
    expect(() => defineContract({ name: 'no-place', marshal: 'standard' } as never)).to.throw(InvalidArgumentError);
    expect(() => defineContract({ name: 'bad-marshal', marshal: 'nope', place: () => ({ kind: 'main' }) } as never)).to.throw(InvalidArgumentError);
    expect(() => getContract('never-defined')).to.throw(InvalidArgumentError, /unknown-contract/);
  });

  it('refuses a bad admit, residence or field, and combinations that could never work', () => {
    const place = (): Placement => ({ kind: 'main' });
    expect(() => defineContract({ name: 'bad-admit', marshal: 'standard', place, admit: 'yes' } as never)).to.throw(InvalidArgumentError, /\[contract-admit\].*must be a function/);
    expect(() => defineContract({ name: 'agile-admit', marshal: 'agile', place, admit: () => true })).to.throw(InvalidArgumentError, /\[contract-admit\].*admit would never run/);
    expect(() => defineContract({ name: 'bad-residence', marshal: 'standard', place, residence: 'roaming' } as never)).to.throw(InvalidArgumentError, /\[contract-residence\]/);
    expect(() => defineContract({ name: 'leased-agile', marshal: 'agile', place, residence: 'leased' })).to.throw(InvalidArgumentError, /\[contract-residence\].*marshal 'standard'/);
    expect(() => defineContract({ name: 'typo', marshal: 'standard', place, admitt: () => true } as never)).to.throw(InvalidArgumentError, /\[contract-field\].*admitt/);
    for (const name of ['bad-admit', 'agile-admit', 'bad-residence', 'leased-agile', 'typo']) expect(() => getContract(name), name).to.throw(InvalidArgumentError);
  });
});

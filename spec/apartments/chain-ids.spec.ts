import { expect } from 'chai';
import { ChainIds, speckEncipher, speckRoundKeys } from '../../apartments/chain-ids.js';

describe('apartments/chain-ids: chain ids are unique and cannot be guessed', () => {
  it('enciphers the published Speck32/64 test vector', () => {
    const keys = speckRoundKeys([0x1918, 0x1110, 0x0908, 0x0100]);
    expect(speckEncipher(keys, 0x6574694c).toString(16)).to.equal('a86842f2');
  });

  it('hands out 100 000 distinct ids in the apartment\'s range, in no order a peer could follow', () => {
    const apartment = 7;
    const ids = new ChainIds(apartment);
    const all = Array.from({ length: 100_000 }, () => ids.next());
    expect(all.every((id) => Number.isSafeInteger(id)), 'safe integers').to.equal(true);
    expect(all.every((id) => Math.floor(id / 0x1_0000_0000) === apartment), 'the apartment is the high part').to.equal(true);
    expect(new Set(all).size, 'no id repeats').to.equal(all.length);
    const steps = all.filter((id, i) => i > 0 && Math.abs(id - all[i - 1]!) <= 1_000).length;
    expect(steps, 'successive ids are not near each other').to.be.lessThan(100);
  });

  it('gives each apartment a key of its own', () => {
    const a = new ChainIds(3);
    const b = new ChainIds(3);
    const first = Array.from({ length: 8 }, () => a.next());
    expect(Array.from({ length: 8 }, () => b.next())).to.not.deep.equal(first);
  });
});

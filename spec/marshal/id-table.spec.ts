import { expect } from 'chai';
import { getHeapSpaceStatistics } from 'node:v8';
import { IdTable } from '../../marshal/id-table.js';

/** The table's entries, sorted by id, to compare with a Map's. */
function entriesOf<T>(table: IdTable<T>): [number, T][] {
  return [...table].sort((a, b) => a[0] - b[0]);
}

function mapEntries<T>(map: Map<number, T>): [number, T][] {
  return [...map].sort((a, b) => a[0] - b[0]);
}

describe('marshal/id-table: behaves as a Map keyed by number', () => {
  it('agrees with a Map over rising ids, long-lived entries, repeats and hostile ids', () => {
    const table = new IdTable<string>();
    const model = new Map<number, string>();
    // A fixed pseudo-random sequence, so a failure names the step that went wrong.
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const hostile = [-1, 0, -0, 2 ** 32 + 5, 2 ** 53 - 1, 1.5, Infinity, -Infinity, NaN, 3 * 2 ** 32 + 1];
    let id = 0;
    for (let step = 0; step < 20_000; step++) {
      const r = next() % 100;
      let key: number;
      if (r < 50) key = ++id;
      else if (r < 80) key = id - (next() % 40);
      else if (r < 90) key = hostile[next() % hostile.length]!;
      else key = (next() % 7) * 2 ** 32 + (id & 15);
      const op = next() % 3;
      if (op === 0 || r < 50) {
        table.set(key, `v${step}`);
        model.set(key, `v${step}`);
      } else if (op === 1) {
        expect(table.delete(key), `delete(${key}) at step ${step}`).to.equal(model.delete(key));
      }
      expect(table.get(key), `get(${key}) at step ${step}`).to.equal(model.get(key));
      expect(table.has(key), `has(${key}) at step ${step}`).to.equal(model.has(key));
      expect(table.size, `size at step ${step}`).to.equal(model.size);
    }
    expect(entriesOf(table)).to.deep.equal(mapEntries(model));
    table.clear();
    expect(table.size).to.equal(0);
    expect([...table]).to.deep.equal([]);
  });

  it('keeps an entry that outlives thousands of later ids, and the ids that land on its slot', () => {
    const table = new IdTable<number>();
    table.set(1, 100);
    for (let id = 2; id < 200_000; id++) {
      table.set(id, id);
      table.delete(id);
    }
    expect(table.get(1)).to.equal(100);
    expect(table.size).to.equal(1);
    expect([...table.values()]).to.deep.equal([100]);
  });

  it('lets the entry being visited be deleted while iterating', () => {
    const table = new IdTable<number>();
    for (let id = 1; id <= 100; id++) table.set(id, id);
    let seen = 0;
    for (const [id] of table) {
      table.delete(id);
      seen++;
    }
    expect(seen).to.equal(100);
    expect(table.size).to.equal(0);
  });
});

describe('marshal/id-table: ids that share a home slot stay reachable after deletes', () => {
  it('finds every id of a run that wraps around the slots, whatever is deleted in between', () => {
    const table = new IdTable<number>();
    const model = new Map<number, number>();
    // Six entries in a table of 16 slots collide whatever the hash, so deletes shift entries back.
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 6; k++) {
        const id = round * 3 + k * 8;
        table.set(id, round);
        model.set(id, round);
      }
      for (const id of [round * 3 + 8, round * 3 + 24]) {
        expect(table.delete(id)).to.equal(model.delete(id));
      }
      for (const [id, value] of model) expect(table.get(id), `id ${id} in round ${round}`).to.equal(value);
      expect(table.size).to.equal(model.size);
    }
  });
});

describe('marshal/id-table: a burst leaves no lasting size', () => {
  it('gives slots back once most entries of a burst are gone, and keeps every entry left', () => {
    const table = new IdTable<number>();
    const slots = (): number => (table as unknown as { ids: Float64Array }).ids.length;
    for (let id = 1; id <= 100_000; id++) table.set(id, id);
    expect(slots()).to.be.at.least(200_000);
    for (let id = 1; id <= 100_000; id++) if (id % 1000 !== 0) table.delete(id);
    expect(table.size).to.equal(100);
    expect(slots()).to.be.at.most(1024);
    for (let id = 1000; id <= 100_000; id += 1000) expect(table.get(id)).to.equal(id);
    table.clear();
    expect(slots()).to.equal(8);
  });
});

describe('marshal/id-table: a table that empties and refills leaves no old-space garbage', () => {
  it('adds far less to old space per set and delete than a long-lived Map does', () => {
    const oldSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'specs run with --expose-gc').to.be.a('function');
    const map = new Map<number, number>();
    const table = new IdTable<number>();
    // Two full collections move both into old space, where a long-lived table of calls lives.
    gc!();
    gc!();
    const rounds = 100_000;
    const m0 = oldSpace();
    for (let i = 0; i < rounds; i++) {
      map.set(i, i);
      map.delete(i);
    }
    const mapGrowth = oldSpace() - m0;
    gc!();
    const t0 = oldSpace();
    for (let i = 0; i < rounds; i++) {
      table.set(i, i);
      table.delete(i);
    }
    const tableGrowth = oldSpace() - t0;
    // A Map leaves 20–54 bytes per round there (Node 20–24); the table none of its own.
    expect(mapGrowth / rounds, 'the Map this replaces still leaves garbage in old space (else this spec proves nothing)').to.be.greaterThan(8);
    expect(tableGrowth / rounds).to.be.lessThan(1);
  });
});

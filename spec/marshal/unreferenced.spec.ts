import { expect } from 'chai';
import { ON_UNREFERENCED } from '../../marshal/by-ref.js';
import { ExportTable } from '../../marshal/export-table.js';

describe('marshal/export-table: telling an object its last reference went', () => {
  it('calls ON_UNREFERENCED when the last importer releases it, and when the table is cleared', () => {
    const heard: string[] = [];
    const table = new ExportTable();
    const a = { [ON_UNREFERENCED]: () => heard.push('a') };
    const b = { [ON_UNREFERENCED]: () => heard.push('b') };
    const oid = table.export(a, 2, 0);
    table.export(a, 3, 0);
    table.export(b, 2, 0);
    table.release(oid, 2, 1);
    expect(heard).to.deep.equal([]);
    table.release(oid, 3, 1);
    expect(heard).to.deep.equal(['a']);
    table.clear();
    expect(heard).to.deep.equal(['a', 'b']);
  });

  it('releases an object whose hook throws, or whose property reads throw', () => {
    const released: number[] = [];
    const table = new ExportTable((e) => released.push(e.oid));
    const failing = { [ON_UNREFERENCED]: () => { throw new Error('clean-up failed'); } };
    const refusing = new Proxy({}, { get: () => { throw new Error('no reads'); } });
    const x = table.export(failing, 2, 0);
    const y = table.export(refusing, 2, 0);
    table.release(x, 2, 1);
    table.release(y, 2, 1);
    expect(released).to.deep.equal([x, y]);
    expect(table.size).to.equal(0);
  });
});

import { expect } from 'chai';
import { ApartmentError } from '../../marshal/errors.js';
import { ExportTable } from '../../marshal/export-table.js';
import { RefKind } from '../../marshal/protocol.js';

describe('marshal/export-table: reference counts per importing apartment', () => {
  it('exports an object once and counts each importer separately', () => {
    const released: number[] = [];
    const table = new ExportTable((e) => released.push(e.oid));
    const obj = {};
    const oid = table.export(obj, 1, RefKind.Object);
    expect(table.export(obj, 1, RefKind.Object)).to.equal(oid);
    expect(table.export(obj, 2, RefKind.Object)).to.equal(oid);
    expect(table.get(oid)!.counts.get(1)).to.equal(2);
    table.release(oid, 1, 2);
    expect(table.size).to.equal(1);
    table.release(oid, 2, 1);
    expect(table.size).to.equal(0);
    expect(released).to.deep.equal([oid]);
  });

  it('throws on a release below zero instead of clamping, and changes nothing', () => {
    const table = new ExportTable();
    const oid = table.export({}, 1, RefKind.Object);
    expect(() => table.release(oid, 1, 2)).to.throw(ApartmentError, /refcount-negative/);
    expect(() => table.release(oid, 3, 1)).to.throw(ApartmentError, /holds 0/);
    expect(table.get(oid)!.total).to.equal(1);
  });

  it('drops everything an importer held when it goes away', () => {
    const table = new ExportTable();
    const a = table.export({}, 1, RefKind.Object);
    const b = table.export({}, 1, RefKind.Function);
    table.export({}, 2, RefKind.Object);
    table.addRef(b, 2, 1);
    table.dropImporter(1);
    expect(table.get(a)).to.equal(undefined);
    expect(table.get(b)!.total).to.equal(1);
    expect(table.size).to.equal(2);
  });

  it('refuses an AddRef for an object that is already gone', () => {
    const table = new ExportTable();
    expect(table.addRef(99, 1, 1)).to.equal(false);
  });

  it('never reuses an object id', () => {
    const table = new ExportTable();
    const first = table.export({}, 1, RefKind.Object);
    table.release(first, 1, 1);
    expect(table.export({}, 1, RefKind.Object)).to.not.equal(first);
  });
});

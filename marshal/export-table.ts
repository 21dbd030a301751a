// The objects an apartment exports, by object id, with a reference count per importing apartment
// (COM's stub manager). Owner apartment only: touched from its own thread and no other.
import { ON_UNREFERENCED } from './by-ref.js';
import { ApartmentError } from './errors.js';
import type { RefKindCode } from './protocol.js';
import { activeTrace, TraceKind } from './trace-hook.js';
import { IdTable } from './id-table.js';
import { randomId } from './random-ids.js';
import { classNameOf } from './class-name.js';

/** One exported object and who holds references to it. */
export interface ExportEntry {
  readonly oid: number;
  readonly object: object;
  readonly kind: RefKindCode;
  /**
   * 122 random bits, sent with every reference to the object: object ids are small counters, so
   * holding a reference (counts) or showing this grant is what lets a peer name the object.
   */
  readonly grant: string;
  /** importing apartment id → references it holds. */
  readonly counts: Map<number, number>;
  total: number;
  /**
   * Whether an importer gave back a reference it held (released it, or went away). A reference the
   * sender gives back unsent (its message failed, or the walk starts again) reached nobody: the
   * object then leaves the table without hearing ON_UNREFERENCED, as its owner still holds it (a
   * stream must not be closed by a send that failed, nor by the walk again after a recount).
   */
  letGo?: boolean;
}

/** Called when an object's last external reference goes away (it may now be collected). */
export type ReleasedListener = (entry: ExportEntry) => void;

/** Exported objects by id and by identity, with per-importer reference counts. */
export class ExportTable {
  /** Exports by oid (an IdTable: oids rise, and objects made per call come and go; id-table.ts). */
  private readonly byOid = new IdTable<ExportEntry>();
  private readonly byObject = new Map<object, ExportEntry>();
  private nextOid = 1;

  constructor(private readonly onReleased: ReleasedListener = () => {}) {}

  get size(): number {
    return this.byOid.size;
  }

  get(oid: number): ExportEntry | undefined {
    return this.byOid.get(oid);
  }

  /** The id `object` is exported under, if it is exported. */
  oidOf(object: object): number | undefined {
    return this.byObject.get(object)?.oid;
  }

  /** Whether `importer` holds at least one reference to object `oid`. */
  holds(oid: number, importer: number): boolean {
    return this.byOid.get(oid)?.counts.has(importer) === true;
  }

  /** Count one more reference held by `importer`, exporting `object` first if needed; returns its entry. */
  exportEntry(object: object, importer: number, kind: RefKindCode): ExportEntry {
    let entry = this.byObject.get(object);
    if (!entry) {
      entry = { oid: this.nextOid++, object, kind, grant: randomId(), counts: new Map(), total: 0 };
      this.byOid.set(entry.oid, entry);
      this.byObject.set(object, entry);
      const trace = activeTrace;
      if (trace) trace.record(TraceKind.Export, -1, importer, entry.oid, classNameOf(object), this.byOid.size);
    }
    entry.counts.set(importer, (entry.counts.get(importer) ?? 0) + 1);
    entry.total++;
    return entry;
  }

  /** Count one more reference held by `importer`, exporting `object` first if needed; returns its id. */
  export(object: object, importer: number, kind: RefKindCode): number {
    return this.exportEntry(object, importer, kind).oid;
  }

  /** Add `count` references for `importer` on an object already exported; false if it is gone. */
  addRef(oid: number, importer: number, count: number): boolean {
    const entry = this.byOid.get(oid);
    if (!entry) return false;
    entry.counts.set(importer, (entry.counts.get(importer) ?? 0) + count);
    entry.total += count;
    return true;
  }

  /**
   * Drop `count` references `importer` holds (`unsent`: the sender gives back references it never
   * sent). Releasing more than it holds is a bug in the caller (never silently clamped): it throws,
   * and the table is left unchanged.
   */
  release(oid: number, importer: number, count: number, unsent = false): void {
    const entry = this.byOid.get(oid);
    if (!entry) return;
    const held = entry.counts.get(importer) ?? 0;
    if (count > held) {
      throw new ApartmentError(
        'E_UNEXPECTED',
        `[refcount-negative] apartment ${importer} released ${count} reference(s) to object ${oid} but holds ${held}; this is a runtime bug, please report it`,
      );
    }
    if (!unsent) entry.letGo = true;
    if (held === count) entry.counts.delete(importer);
    else entry.counts.set(importer, held - count);
    entry.total -= count;
    if (entry.total === 0) this.remove(entry);
  }

  /** Drop every reference `importer` holds (it closed or died). */
  dropImporter(importer: number): void {
    for (const entry of [...this.byOid.values()]) {
      const held = entry.counts.get(importer);
      if (held === undefined) continue;
      entry.counts.delete(importer);
      entry.letGo = true;
      entry.total -= held;
      if (entry.total === 0) this.remove(entry);
    }
  }

  /** Disconnect everything (the apartment is closing); returns how many objects were dropped. */
  clear(): number {
    const n = this.byOid.size;
    const entries = [...this.byOid.values()];
    this.byOid.clear();
    this.byObject.clear();
    for (const e of entries) this.released(e, true);
    return n;
  }

  private remove(entry: ExportEntry): void {
    this.byOid.delete(entry.oid);
    this.byObject.delete(entry.object);
    const trace = activeTrace;
    if (trace) trace.record(TraceKind.Release, -1, -1, entry.oid, classNameOf(entry.object), this.byOid.size);
    this.released(entry, entry.letGo === true);
  }

  private released(entry: ExportEntry, unreferenced: boolean): void {
    if (unreferenced) this.unreferenced(entry);
    this.onReleased(entry);
  }

  private unreferenced(entry: ExportEntry): void {
    try {
      // Read inside the try: an exported Proxy (a rental lease) may throw on any property read.
      const hook = (entry.object as { [ON_UNREFERENCED]?: unknown })[ON_UNREFERENCED];
      if (typeof hook === 'function') (hook as () => void).call(entry.object);
    } catch {
      // The object's own clean-up failed, or it refused the look-up; the reference is gone either way.
    }
  }
}

// Hashes that make an interface's identity and compatibility: per member, its canonical form and
// every shape it reaches (by stable id, never by a compiler-internal name or a file path of this
// machine); per interface, its id and its members' hashes. Same source, same hashes, whatever
// else the program holds.
import { createHash } from 'node:crypto';
import { checkKey } from './check-builder.js';
import type { Check, MemberIR, ShapeIR } from './ir.js';

const hash = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

/** Every shape reachable from `roots`, by id. */
export function reachableShapes(roots: readonly Check[], shapes: ReadonlyMap<string, ShapeIR>): Set<string> {
  const found = new Set<string>();
  const visit = (c: Check): void => {
    switch (c.k) {
      case 'shape': {
        if (found.has(c.id)) return;
        found.add(c.id);
        const s = shapes.get(c.id);
        if (!s) return;
        for (const p of s.props) visit(p.check);
        for (const i of s.index) visit(i.check);
        return;
      }
      case 'array':
      case 'set':
      case 'iterable':
      case 'stream':
        return visit(c.of);
      case 'union':
        return c.of.forEach(visit);
      case 'tuple':
        return c.items.forEach((i) => visit(i.check));
      case 'map':
        visit(c.key);
        return visit(c.value);
      default:
    }
  };
  roots.forEach(visit);
  return found;
}

/** The canonical form of a shape, for hashing. */
function shapeForm(s: ShapeIR | undefined): unknown {
  if (!s) return null;
  return [s.props.map((p) => [p.name, p.optional, checkKey(p.check)]), s.index.map((i) => [i.key, checkKey(i.check)]), s.proxies, s.callable];
}

/** A member's hash: its name, kind, parameters' checks, result type, and the shapes those reach. */
export function memberHash(m: Omit<MemberIR, 'hash'> & { readonly resultKey: string }, shapes: ReadonlyMap<string, ShapeIR>): string {
  const roots = m.signatures.flatMap((s) => s.params.map((p) => p.check));
  const reached = [...reachableShapes(roots, shapes)].sort();
  return hash([
    m.name, m.kind, m.optional, m.result, m.resultKey,
    m.signatures.map((s) => s.params.map((p) => [checkKey(p.check), p.optional, p.rest])),
    reached.map((id) => [id, shapeForm(shapes.get(id))]),
  ]);
}

/** An interface's version: its id and every member's hash, in index order. */
export function versionOf(id: string, members: readonly MemberIR[]): string {
  return hash([id, members.map((m) => m.hash)]);
}

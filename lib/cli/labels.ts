// How messages and manifests name a check's type: `number | undefined`, `TextDocumentItem[]`,
// `remote Listener`. Deterministic: made from the IR, never from the compiler's own printing.
import type { Check, ShapeIR, StreamName } from './ir.js';

const STREAM_LABELS: Readonly<Record<StreamName, string>> = { 'async-iterable': 'AsyncIterable', readable: 'ReadableStream', writable: 'WritableStream' };

/** The name of what a check accepts. */
export function labelOf(c: Check, shapes: ReadonlyMap<string, ShapeIR>): string {
  switch (c.k) {
    case 'any':
      return 'any';
    case 'prim':
      return c.t;
    case 'lit':
      return JSON.stringify(c.v);
    case 'bigint-lit':
      return `${c.v}n`;
    case 'array':
      return `${c.of.k === 'union' && !c.of.name ? `(${labelOf(c.of, shapes)})` : labelOf(c.of, shapes)}[]`;
    case 'tuple':
      return `[${c.items.map((i) => `${i.rest ? '...' : ''}${labelOf(i.check, shapes)}${i.rest ? '[]' : ''}${i.optional && !i.rest ? '?' : ''}`).join(', ')}]`;
    case 'union':
      return c.name ?? (c.of.length === 0 ? 'never' : c.of.map((u) => labelOf(u, shapes)).join(' | '));
    case 'shape':
      return shapes.get(c.id)?.label ?? 'object';
    case 'builtin':
      return c.t;
    case 'map':
      return `Map<${labelOf(c.key, shapes)}, ${labelOf(c.value, shapes)}>`;
    case 'set':
      return `Set<${labelOf(c.of, shapes)}>`;
    case 'iterable':
      return 'iterable';
    case 'stream':
      return `${STREAM_LABELS[c.t]}<${labelOf(c.of, shapes)}>`;
    case 'remote':
      return `remote ${c.label}`;
  }
}

// This apartment's copies of named memory, for an apartment that shares no memory with the main one
// (a process apartment). Each copy remembers the contents last exchanged with the main apartment
// (its base), so a lock can bring in what others wrote without losing what this apartment changed
// and not yet sent, and an unlock sends exactly the bytes that differ from the base: a byte no one
// here changed is never written back over someone else's. Per thread: the apartment's own thread.
import type { MemoryWrite } from './mirrored-locks.js';

interface Mirror {
  /** What the user holds: `handle.value`. */
  readonly memory: SharedArrayBuffer;
  readonly view: Uint8Array;
  /** The contents as last exchanged with the main apartment. */
  readonly base: Uint8Array;
  /** Open handles on it in this apartment; the copy is dropped with the last. */
  handles: number;
  /**
   * The main apartment holds it as this copy's: false while this apartment, its creator, initialises
   * it. Until then an unlock sends none of it (the main apartment refuses writes to memory nobody may
   * see yet, and the whole unlock with them): its contents go out with its publication.
   */
  published: boolean;
}

const mirrors = new Map<string, Mirror>();

/**
 * The copy of named memory `name` of `size` bytes: the open one, or a new one holding `contents`, or
 * without them zeros for this apartment, its creator, to initialise (unpublished until publishedMirror()).
 */
export function openMirror(name: string, size: number, contents: Uint8Array | undefined): SharedArrayBuffer {
  const open = mirrors.get(name);
  if (open) {
    open.handles++;
    return open.memory;
  }
  const memory = new SharedArrayBuffer(size);
  const view = new Uint8Array(memory);
  if (contents) view.set(contents.subarray(0, size));
  mirrors.set(name, { memory, view, base: view.slice(), handles: 1, published: contents !== undefined });
  return memory;
}

/** The creator initialised its copy: that is now what the main apartment holds too. */
export function publishedMirror(name: string): Uint8Array {
  const mirror = mirrors.get(name)!;
  mirror.published = true;
  mirror.base.set(mirror.view);
  return mirror.base.slice();
}

/** Close one handle on `name`; the last one drops the copy. */
export function closeMirror(name: string): void {
  const mirror = mirrors.get(name);
  if (mirror && --mirror.handles === 0) mirrors.delete(name);
}

/**
 * Bring in the main apartment's contents, as a lock grant carries them. A byte this apartment
 * changed since the last exchange keeps its change (it goes out with the next unlock); every other
 * byte takes the main apartment's value.
 */
export function refreshMirrors(memories: readonly [string, Uint8Array][]): void {
  for (const [name, fresh] of memories) {
    const mirror = mirrors.get(name);
    if (!mirror || fresh.byteLength !== mirror.view.byteLength) continue;
    if (Buffer.compare(mirror.view, mirror.base) === 0) {
      mirror.view.set(fresh);
      mirror.base.set(fresh);
      continue;
    }
    const { view, base } = mirror;
    for (let i = 0; i < view.length; i++) {
      if (view[i] === base[i]) view[i] = base[i] = fresh[i]!;
    }
  }
}

/**
 * More changed runs than this in one memory go out as one run from the first changed byte to the
 * last, so an unlock stays one bounded message (bytes between the runs then carry the values this
 * apartment last saw).
 */
const MAX_RUNS_PER_MEMORY = 1024;

/** The runs of bytes changed since the last exchange, which now count as exchanged. */
export function takeMirrorChanges(): MemoryWrite[] {
  const writes: MemoryWrite[] = [];
  for (const [name, { view, base, published }] of mirrors) {
    if (!published || Buffer.compare(view, base) === 0) continue;
    const runs: [number, number][] = [];
    let i = 0;
    while (i < view.length) {
      if (view[i] === base[i]) {
        i++;
        continue;
      }
      const start = i;
      while (i < view.length && view[i] !== base[i]) i++;
      runs.push([start, i]);
    }
    const spans = runs.length > MAX_RUNS_PER_MEMORY ? [[runs[0]![0], runs[runs.length - 1]![1]] as [number, number]] : runs;
    for (const [start, end] of spans) {
      const run = view.slice(start, end);
      base.set(run, start);
      writes.push([name, start, run]);
    }
  }
  return writes;
}

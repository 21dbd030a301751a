// The link kinds this thread knows, by name: how links between apartments are made and attached
// and what they can carry. The composition roots register the built-in kinds in every thread; a
// kind registered with a module source is loaded by each worker apartment before it attaches its
// first link, so kinds defined outside the runtime (a spec's, a later child-process pipe) reach
// every thread. The engine looks kinds up by name and reads their flags; it never names one.
// Per thread; registration happens at start-up.
import { MessagePort } from 'node:worker_threads';
import { InvalidArgumentError, ModuleLoadError } from '../marshal/errors.js';
import type { LinkKindDefinition, Transferable, Transport } from '../marshal/transport.js';

/** Where a worker loads a kind the runtime does not build in: a module URL and the export holding the definition. */
export interface LinkKindSource {
  readonly name: string;
  readonly module: string;
  readonly export: string;
}

/** A link a worker offers the broker: the kind, the end for the peer, and what sending that end moves. */
export interface LinkOffer {
  readonly kind: string;
  readonly end: unknown;
  readonly transfer: Transferable[];
}

/** The broker's answer to a link request: the offer was passed on, or here is this side's end of a link of `kind`. */
export type LinkReply = { readonly accepted: true } | { readonly kind: string; readonly end: unknown };

/** Kind names are short and plain, so they read well in options, messages and logs. */
const KIND_NAME = /^[a-z][a-z0-9-]{0,63}$/;
/** The most objects one link end may move (a ring moves one port). */
const MAX_END_TRANSFERS = 8;

const kinds = new Map<string, { definition: LinkKindDefinition; source: LinkKindSource | undefined }>();

/**
 * Kinds whose definitions a thread loads only when it needs them: only a thread started on a link
 * of such a kind attaches its ends (a node's apartment its session, a process's main thread its
 * channel), so every other thread is spared their code. Registering the kind fulfils it.
 */
const deferred = new Map<string, () => Promise<LinkKindDefinition>>();

/**
 * Register a link kind in this thread. With `source`, worker apartments started afterwards load it
 * from there before attaching any link. Registering the same definition again does nothing;
 * another definition under a taken name is refused.
 */
export function registerLinkKind(definition: LinkKindDefinition, source?: { module: string | URL; export?: string }): void {
  checkDefinition(definition);
  const known = kinds.get(definition.name);
  if (known && known.definition !== definition) {
    throw new InvalidArgumentError(`[link-kind] a different link kind named '${definition.name}' is already registered; pick another name`, { parameter: 'definition' });
  }
  const from = source ? { name: definition.name, module: source.module instanceof URL ? source.module.href : String(source.module), export: source.export ?? 'default' } : undefined;
  if (from && !/^(file|data):/.test(from.module)) {
    throw new InvalidArgumentError(`[link-kind] the module of link kind '${definition.name}' must be an absolute file URL so worker apartments can load it; got ${from.module}`, { parameter: 'module' });
  }
  kinds.set(definition.name, { definition, source: known?.source ?? from });
  deferred.delete(definition.name);
}

/**
 * Declare a kind this thread loads with `load` when it is asked to (loadLinkKind), not now. A kind
 * already registered stays as it is.
 */
export function deferLinkKind(name: string, load: () => Promise<LinkKindDefinition>): void {
  if (!kinds.has(name)) deferred.set(name, load);
}

/** Load kind `name` if it was deferred in this thread; a kind already registered, or unknown, is left to linkKind(). */
export async function loadLinkKind(name: unknown): Promise<void> {
  const load = typeof name === 'string' ? deferred.get(name) : undefined;
  if (load === undefined) return;
  let definition: LinkKindDefinition;
  try {
    definition = await load();
  } catch (err) {
    throw new ModuleLoadError(`[link-kind] link kind '${String(name)}' could not be loaded: ${(err as Error)?.message ?? String(err)}; reinstall the package`, { cause: err });
  }
  if (definition?.name !== name) throw new ModuleLoadError(`[link-kind] the module of link kind '${String(name)}' holds another kind; reinstall the package`);
  registerLinkKind(definition);
}

/** The registered kind called `name`; InvalidArgumentError naming it (and the known ones) otherwise. */
export function linkKind(name: unknown, parameter = 'transport'): LinkKindDefinition {
  const known = typeof name === 'string' ? kinds.get(name) : undefined;
  if (!known && deferred.has(name as string)) {
    throw new InvalidArgumentError(`[link-kind] this thread has not loaded link kind '${name as string}' (${parameter}): only an apartment started on a link of that kind attaches its ends`, { parameter });
  }
  if (!known) {
    const names = [...kinds.keys()].map((k) => `'${k}'`).join(', ') || 'none';
    throw new InvalidArgumentError(`[link-kind] ${parameter} names no registered link kind: ${describe(name)} (registered: ${names}); use one of those or register the kind first`, { parameter });
  }
  return known.definition;
}

/** The kinds worker apartments must load, as registered here. */
export function linkKindSources(): LinkKindSource[] {
  return [...kinds.values()].flatMap((k) => (k.source ? [k.source] : []));
}

/** Load and register the kinds a worker apartment was told about (before it attaches any link). */
export async function loadLinkKinds(sources: readonly LinkKindSource[]): Promise<void> {
  for (const source of sources) {
    if (kinds.has(source.name)) continue;
    let definition: unknown;
    try {
      definition = ((await import(source.module)) as Record<string, unknown>)[source.export];
    } catch (err) {
      throw new ModuleLoadError(`[link-kind] link kind '${source.name}' could not be loaded from ${source.module}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    if ((definition as LinkKindDefinition | undefined)?.name !== source.name) {
      throw new ModuleLoadError(`[link-kind] ${source.module} does not export link kind '${source.name}' as '${source.export}'`);
    }
    registerLinkKind(definition as LinkKindDefinition, source);
  }
}

/**
 * Turn an end that arrived from `from` into a transport: the kind must be registered here and the
 * end must pass its check, since it came from a peer. InvalidArgumentError otherwise.
 */
export function attachLink(kindName: unknown, end: unknown, from: string): { transport: Transport; kind: LinkKindDefinition } {
  const kind = linkKind(kindName, 'link kind');
  const problem = kind.checkEnd(end);
  if (problem !== undefined) {
    throw new InvalidArgumentError(`[link-end] ${from} sent an unusable '${kind.name}' link end: ${problem}`, { parameter: 'end' });
  }
  return { transport: kind.attach(end), kind };
}

/** Check a link offer that arrived from a worker apartment (untrusted): a registered direct kind, a usable end, a short transfer list. */
export function checkLinkOffer(value: unknown): LinkOffer | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError('[connect] a link offer must be an object { kind, end, transfer }', { parameter: 'offer' });
  }
  const offer = value as Record<string, unknown>;
  const kind = linkKind(offer['kind'], 'offer.kind');
  if (!kind.direct) throw new InvalidArgumentError(`[connect] link kind '${kind.name}' cannot link two apartments directly; it cannot be offered`, { parameter: 'offer.kind' });
  const problem = kind.checkEnd(offer['end']);
  if (problem !== undefined) throw new InvalidArgumentError(`[link-end] the offered '${kind.name}' link end is unusable: ${problem}`, { parameter: 'offer.end' });
  const transfer = offer['transfer'];
  if (!Array.isArray(transfer) || transfer.length > MAX_END_TRANSFERS || !transfer.every(isTransferable)) {
    throw new InvalidArgumentError(`[connect] offer.transfer must list at most ${MAX_END_TRANSFERS} MessagePorts or ArrayBuffers`, { parameter: 'offer.transfer' });
  }
  return { kind: kind.name, end: offer['end'], transfer: transfer as Transferable[] };
}

function isTransferable(item: unknown): boolean {
  return item instanceof ArrayBuffer || item instanceof MessagePort;
}

function checkDefinition(d: LinkKindDefinition): void {
  const badDefinition = (what: string): InvalidArgumentError => new InvalidArgumentError(`[link-kind] a link kind definition ${what}`, { parameter: 'definition' });
  if (d === null || typeof d !== 'object') throw badDefinition('must be an object');
  if (typeof d.name !== 'string' || !KIND_NAME.test(d.name)) throw badDefinition(`needs a name of lowercase letters, digits and dashes (at most 64); got ${describe(d.name)}`);
  if (typeof d.direct !== 'boolean' || typeof d.sharedMemory !== 'boolean') throw badDefinition(`'${d.name}' must say direct and sharedMemory as booleans`);
  if (d.carries !== 'clone' && d.carries !== 'bytes') throw badDefinition(`'${d.name}' must say carries: 'clone' or 'bytes'`);
  if (typeof d.create !== 'function' || typeof d.attach !== 'function' || typeof d.checkEnd !== 'function') throw badDefinition(`'${d.name}' needs create(), attach() and checkEnd()`);
  if (d.pair !== undefined && typeof d.pair !== 'function') throw badDefinition(`'${d.name}' has a pair that is not a function`);
  if (d.moveCopiesFrom !== undefined && (d.carries !== 'clone' || !Number.isSafeInteger(d.moveCopiesFrom) || d.moveCopiesFrom < 1)) {
    throw badDefinition(`'${d.name}' may say moveCopiesFrom only with carries: 'clone', as a whole number of bytes from 1; got ${describe(d.moveCopiesFrom)}${typeof d.moveCopiesFrom === 'number' ? ` (${d.moveCopiesFrom})` : ''}`);
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : value === null ? 'null' : typeof value;
}

// The control service behind named objects and once(): every open and create-once decision is
// made by the main apartment's registry, asked through this service from any apartment.
import { currentCall } from '../../apartments/context.js';
import { ANY_ROLE, controlService, type ControlRouter } from '../../apartments/control-plane.js';
import { id, list, name, oneOf } from '../../apartments/control-args.js';
import { InvalidArgumentError } from '../../marshal/errors.js';
import type { MemoryWrite, MirroredGrant, MirroredLocks } from './mirrored-locks.js';
import type { NamedGrant, NamedKind, NamedRegistry } from './named-registry.js';

/** Named shared objects and create-once values (served by the main apartment). */
export interface NamedApi {
  /** `ticket` numbers the request, for giveUpOpen() if the caller stops waiting for the answer. */
  open(kind: NamedKind, name: string, bytes: number, ticket: number): NamedGrant;
  /** open() for an apartment that shares no memory with the main one: a copy of the contents instead. */
  openMirror(kind: 'mutex' | 'memory', name: string, bytes: number, ticket: number): MirrorGrant;
  /** The caller gave up open `ticket`: what it was granted meanwhile (creation, a handle) is given up. */
  giveUpOpen(name: string, ticket: number): void;
  /** The creator's initial contents come along when it initialised a copy (openMirror). */
  publish(name: string, bytes?: Uint8Array): void;
  lock(name: string, token: number, timeoutMs: number | undefined): MirroredGrant;
  unlock(token: number, writes: MemoryWrite[]): void;
  /** Give a lock back unchanged, granted or not yet; true when there was one. */
  giveUp(token: number): boolean;
  abandon(name: string): void;
  /** `ticket` names the open the handle was granted by. */
  close(name: string, ticket?: number): void;
  onceBegin(name: string, ticket: number): { build?: true; value?: unknown };
  /** The caller gave up onceBegin `ticket`: building granted meanwhile passes on. */
  giveUpOnce(name: string, ticket: number): void;
  onceDone(name: string, value: unknown): void;
  onceFailed(name: string): void;
}
export const NamedService = controlService<NamedApi>('named');

/** What openMirror answers: whether the caller creates it, and the contents of memory it does not create. */
export interface MirrorGrant {
  readonly create: boolean;
  readonly bytes?: Uint8Array;
}

/** The largest named memory segment an apartment may ask for (1 GiB). */
const MAX_BYTES = 1 << 30;
/** The largest named memory an apartment without shared memory may open: every lock copies it (16 MiB). */
export const MAX_MIRRORED_BYTES = 1 << 24;
/** The most named memory in all an apartment without shared memory may hold (64 MiB). */
const MAX_MIRRORED_TOTAL = 1 << 26;
/** The most changed runs one unlock may write. */
const MAX_WRITES = 65_536;

/** Serve the named-object service from `registry` on the main apartment's router. */
export function serveNamed(router: ControlRouter, registry: NamedRegistry, locks: MirroredLocks): void {
  const one = (args: unknown[]): [string] => [name(args[0], 'name')];
  router.register(NamedService, {
    open: {
      roles: ANY_ROLE,
      check: (args) => [oneOf(args[0], 'kind', ['mutex', 'memory', 'counter'] as const), name(args[1], 'name'), size(args[2], MAX_BYTES), id(args[3], 'ticket')],
      // A wait ends with the asking call: a caller that gave up must not be handed creation or a handle.
      run: (caller, kind, named, bytes, ticket) => registry.open(caller.apartment, kind, named, bytes, undefined, currentCall()?.signal, ticket),
    },
    openMirror: {
      roles: ANY_ROLE,
      check: (args) => [oneOf(args[0], 'kind', ['mutex', 'memory'] as const), name(args[1], 'name'), size(args[2], MAX_MIRRORED_BYTES), id(args[3], 'ticket')],
      run: async (caller, kind, named, bytes, ticket) => {
        // Every lock copies each named memory it holds to it: all of them together stay small.
        const grant = await registry.open(caller.apartment, kind, named, bytes, MAX_MIRRORED_TOTAL, currentCall()?.signal, ticket);
        return grant.create || kind === 'mutex' ? { create: grant.create } : { create: false, bytes: new Uint8Array(grant.sab).slice() };
      },
    },
    giveUpOpen: { roles: ANY_ROLE, check: (args) => [name(args[0], 'name'), id(args[1], 'ticket')], run: (caller, named, ticket) => registry.giveUpOpen(caller.apartment, named, ticket) },
    publish: {
      roles: ANY_ROLE,
      check: (args) => [name(args[0], 'name'), args[1] === undefined ? undefined : bytesOf(args[1], 'bytes')],
      run: (caller, named, bytes) => registry.publish(caller.apartment, named, bytes),
    },
    lock: {
      roles: ANY_ROLE,
      check: (args) => [name(args[0], 'name'), id(args[1], 'token'), args[2] === undefined || args[2] === null ? undefined : id(args[2], 'timeoutMs')],
      run: (caller, named, token, timeoutMs) => locks.lock(caller.apartment, named, token, timeoutMs),
    },
    unlock: {
      roles: ANY_ROLE,
      check: (args) => [id(args[0], 'token'), list(args[1], 'writes', MAX_WRITES).map(write)],
      run: (caller, token, writes) => locks.unlock(caller.apartment, token, writes),
    },
    giveUp: { roles: ANY_ROLE, check: (args) => [id(args[0], 'token')], run: (caller, token) => locks.giveUp(caller.apartment, token) },
    abandon: { roles: ANY_ROLE, check: one, run: (caller, named) => registry.abandon(caller.apartment, named) },
    close: {
      roles: ANY_ROLE,
      check: (args) => [name(args[0], 'name'), args[1] === undefined ? undefined : id(args[1], 'ticket')],
      run: (caller, named, ticket) => registry.close(caller.apartment, named, ticket),
    },
    onceBegin: { roles: ANY_ROLE, check: (args) => [name(args[0], 'name'), id(args[1], 'ticket')], run: (caller, named, ticket) => registry.onceBegin(caller.apartment, named, currentCall()?.signal, ticket) },
    giveUpOnce: { roles: ANY_ROLE, check: (args) => [name(args[0], 'name'), id(args[1], 'ticket')], run: (caller, named, ticket) => registry.giveUpOnce(caller.apartment, named, ticket) },
    onceDone: { roles: ANY_ROLE, check: (args) => [name(args[0], 'name'), args[1]], run: (caller, named, value) => registry.onceDone(caller.apartment, named, value) },
    onceFailed: { roles: ANY_ROLE, check: one, run: (caller, named) => registry.onceFailed(caller.apartment, named) },
  });
}

/** A size of 1 byte to `max`. */
function size(value: unknown, max: number): number {
  const bytes = id(value, 'bytes');
  if (bytes < 1 || bytes > max) throw new InvalidArgumentError(`[named-size] this named object may have 1 to ${max} bytes; got ${bytes}`, { parameter: 'bytes' });
  return bytes;
}

function bytesOf(value: unknown, parameter: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(`[control-args] ${parameter} must be a Uint8Array`, { parameter });
  return value;
}

/** One changed run: [memory name, offset, bytes]. */
function write(value: unknown): MemoryWrite {
  const item = list(value, 'writes[]', 3);
  return [name(item[0], 'writes[].name'), id(item[1], 'writes[].offset'), bytesOf(item[2], 'writes[].bytes')];
}

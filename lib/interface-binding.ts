// Binding a reference to a generated interface (COM's QueryInterface): the owner apartment checks
// that the object's class declares an interface with the same id, and says which of the caller's
// members it can serve (per member: a caller built against an older interface keeps calling the
// members that did not change); then calls go by index.
import type { LocalApartment } from '../apartments/local-apartment.js';
import { memberLabel, type InterfaceManifest, type RemoteInterface } from '../marshal/interface-manifest.js';
import { CONTROL_OID } from '../marshal/protocol.js';
import { release, remoteStateOf } from '../marshal/proxy.js';
import { currentApartment } from './context.js';
import { InvalidArgumentError, NoInterfaceError } from './errors.js';

/** What a generated proxy calls through: member index and arguments. */
export interface RemoteTarget {
  invoke(index: number, args: unknown[]): Promise<unknown>;
}

/** What a caller asks the owner of an object: this interface, at this version, with these member hashes. */
export interface InterfaceRequest {
  readonly id: string;
  readonly version: string;
  readonly members: readonly string[];
}

/**
 * The owner's answer: null when both sides have the same version (indexes line up), otherwise, per
 * caller member index, the owner's index of the same member, or -1 when it changed or is gone.
 */
export type MemberMap = readonly number[] | null;

const MAX_MEMBERS = 10_000;

/** Validate a request that came from another apartment (peers are untrusted). */
export function interfaceRequest(id: unknown, version: unknown, members: unknown): InterfaceRequest {
  const text = (v: unknown, what: string): string => {
    if (typeof v !== 'string' || v.length > 1024) throw new InvalidArgumentError(`[bad-request] queryInterface: ${what} must be a string of at most 1024 characters`, { parameter: what });
    return v;
  };
  if (!Array.isArray(members) || members.length > MAX_MEMBERS) throw new InvalidArgumentError(`[bad-request] queryInterface: members must be an array of at most ${MAX_MEMBERS} hashes`, { parameter: 'members' });
  return { id: text(id, 'id'), version: text(version, 'version'), members: members.map((m) => text(m, 'members')) };
}

/** Check that `object`'s class declares the requested interface (QueryInterface); returns the member map. */
export function queryInterface(object: object, request: InterfaceRequest): MemberMap {
  const declared = (object as { constructor?: { remoteInterface?: RemoteInterface<object> } }).constructor?.remoteInterface;
  const name = request.id.slice(request.id.lastIndexOf('#') + 1);
  if (!declared || declared.manifest.id !== request.id) {
    throw new NoInterfaceError(`[no-interface] the object does not implement interface ${request.id}; declare static remoteInterface = ${name}Remote on its class`);
  }
  const own = declared.manifest;
  if (own.version === request.version) return null;
  const byHash = new Map(own.members.map((m, i) => [m.hash, i]));
  const map = request.members.map((h) => byHash.get(h) ?? -1);
  if (!map.some((i) => i >= 0)) {
    throw new NoInterfaceError(`[version-mismatch] interface ${own.name} is version ${own.version} on the object's side and ${request.version} on the caller's, with no member in common; regenerate both sides with apartment-proxygen from the same source`);
  }
  return map;
}

function requestOf(manifest: InterfaceManifest): InterfaceRequest {
  return { id: manifest.id, version: manifest.version, members: manifest.members.map((m) => m.hash) };
}

function changed(manifest: InterfaceManifest, index: number): NoInterfaceError {
  const member = manifest.members[index];
  const what = member ? `${manifest.name}.${memberLabel(member)}` : `${manifest.name} member #${index}`;
  return new NoInterfaceError(`[version-mismatch] ${what} differs between the caller's build of ${manifest.name} and the object's (or the object's has no such member); regenerate both sides with apartment-proxygen from the same source`);
}

/** Bind a reference (a proxy, or a local object) to a generated interface; fails if it does not implement it. */
export async function bindInterface(ref: unknown, manifest: InterfaceManifest): Promise<RemoteTarget> {
  const state = remoteStateOf(ref);
  if (!state) {
    if (ref === null || typeof ref !== 'object') throw new NoInterfaceError(`[no-interface] expected an object or a proxy to bind to ${manifest.name}`);
    const map = queryInterface(ref, requestOf(manifest));
    const stub = (ref as { constructor: { remoteInterface: RemoteInterface<object> } }).constructor.remoteInterface.stub;
    return {
      invoke: async (index, args) => {
        const own = Number.isInteger(index) ? (map ? map[index] : index) : undefined;
        if (map && own === -1) throw changed(manifest, index);
        const invoker = own === undefined ? undefined : stub[own];
        if (!invoker) throw new NoInterfaceError(`[no-interface] interface ${manifest.name} has no member #${index}; regenerate the proxy from the same source as the object's stub`);
        return invoker(ref, args);
      },
    };
  }
  const apt = currentApartment() as LocalApartment;
  const request = requestOf(manifest);
  const map = (await apt.endpoint.call(state.apartment, CONTROL_OID, 'queryInterface', [state.oid, request.id, request.version, request.members])) as MemberMap;
  if (!map) return { invoke: (index, args) => state.host.callRemote(state, index, args) };
  return {
    invoke: (index, args) => {
      const own = map[index];
      if (own === undefined || own < 0) return Promise.reject(changed(manifest, index));
      return state.host.callRemote(state, own, args);
    },
  };
}

/** What an event member of a generated proxy returns: disposing it ends the subscription. */
export interface RemoteSubscription extends Disposable, AsyncDisposable {
  /** Unsubscribe (the owner's disposable is called), then release the reference to it. */
  dispose(): Promise<void>;
}

/** Wrap the disposable an event member returned (a proxy, by reference) into a subscription. */
export async function subscription(pending: Promise<unknown>): Promise<RemoteSubscription> {
  const handle = await pending;
  let done: Promise<void> | undefined;
  const dispose = (): Promise<void> => (done ??= (async () => {
    try {
      const d = (handle as { dispose?: unknown } | null | undefined)?.dispose;
      if (typeof d === 'function') await (d as () => unknown).call(handle);
    } finally {
      release(handle);
    }
  })());
  return {
    dispose,
    [Symbol.asyncDispose]: dispose,
    // A synchronous dispose cannot report a failure: `await using` (or await dispose()) sees it.
    [Symbol.dispose]: () => void dispose().catch(() => undefined),
  };
}

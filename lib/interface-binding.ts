// Binding a reference to a generated interface (COM's QueryInterface): the owner apartment checks
// that the object's class declares an interface with the same id, and says which of the caller's
// members it can serve (marshal/interface-query.ts); then calls go by index.
import { memberLabel, type InterfaceManifest, type RemoteInterface } from '../marshal/interface-manifest.js';
import { queryInterface, type InterfaceRequest, type MemberMap } from '../marshal/interface-query.js';
import { release, remoteStateOf } from '../marshal/proxy.js';
import { controlService } from '../apartments/control-plane.js';
import { serviceOf } from '../apartments/main-call.js';
import { NoInterfaceError } from '../marshal/errors.js';

export { interfaceRequest, queryInterface, type InterfaceRequest, type MemberMap } from '../marshal/interface-query.js';

/** Interface queries on exported objects (served by every apartment; see interface-service.ts). */
export interface InterfacesApi {
  /** Does object `oid` implement interface `id`, and which of the caller's members (by hash) can it serve? */
  queryInterface(oid: number, id: string, version: string, members: string[]): MemberMap;
}
export const InterfacesService = controlService<InterfacesApi>('interfaces');

/** What a generated proxy calls through: member index and arguments. */
export interface RemoteTarget {
  invoke(index: number, args: unknown[]): Promise<unknown>;
}

function requestOf(manifest: InterfaceManifest): InterfaceRequest {
  return { id: manifest.id, version: manifest.version, members: manifest.members.map((m) => m.hash) };
}

function changed(manifest: InterfaceManifest, index: number): NoInterfaceError {
  const member = manifest.members[index];
  const what = member ? `${manifest.name}.${memberLabel(member)}` : `${manifest.name} member #${index}`;
  return new NoInterfaceError(`[version-mismatch] ${what} differs between the caller's build of ${manifest.name} and the object's (or the object's has no such member); regenerate both sides with apartment-proxygen from the same source`);
}

/** The reference each generated proxy was bound to (what bindFoo(ref) returned → ref). */
const boundRefs = new WeakMap<object, unknown>();

/** Record that `proxy`, a generated proxy, speaks for `ref` (generated bindFoo functions call it); returns `proxy`. */
export function boundProxy<P extends object>(proxy: P, ref: unknown): P {
  boundRefs.set(proxy, ref);
  return proxy;
}

/** The reference a generated proxy was bound to, or undefined for anything else. */
export function boundReference(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? boundRefs.get(value) : undefined;
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
  const request = requestOf(manifest);
  const map = await serviceOf(state.apartment, InterfacesService).queryInterface(state.oid, request.id, request.version, [...request.members]);
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

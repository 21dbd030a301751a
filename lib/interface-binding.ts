// Binding a reference to a generated interface (COM's QueryInterface): the owner apartment checks
// that the object's class declares that interface at the same version, then calls go by index.
import type { InterfaceManifest, RemoteInterface } from '../marshal/interface-manifest.js';
import { remoteStateOf } from '../marshal/proxy.js';
import { serviceOf } from '../apartments/main-call.js';
import { controlService } from '../apartments/control-plane.js';
import { NoInterfaceError } from '../marshal/errors.js';

/** Interface queries on exported objects (served by every apartment; see interface-service.ts). */
export interface InterfacesApi {
  queryInterface(oid: number, id: string, version: string): boolean;
}
export const InterfacesService = controlService<InterfacesApi>('interfaces');

/** What a generated proxy calls through: method index and arguments. */
export interface RemoteTarget {
  invoke(index: number, args: unknown[]): Promise<unknown>;
}

/** Check that `object`'s class declares `manifest`'s interface at its version (QueryInterface). */
export function queryInterface(object: object, manifest: { id: string; version: string }): RemoteInterface<object> {
  const declared = (object as { constructor?: { remoteInterface?: RemoteInterface<object> } }).constructor?.remoteInterface;
  if (!declared || declared.manifest.id !== manifest.id) {
    throw new NoInterfaceError(`[no-interface] the object does not implement interface ${manifest.id}; declare static remoteInterface = ${manifest.id}Remote on its class`);
  }
  if (declared.manifest.version !== manifest.version) {
    throw new NoInterfaceError(`[version-mismatch] interface ${manifest.id} is version ${declared.manifest.version} on the object's side and ${manifest.version} on the caller's; regenerate both sides with apartment-proxygen from the same source`);
  }
  return declared;
}

/** Bind a reference (a proxy, or a local object) to a generated interface; fails if it does not implement it. */
export async function bindInterface(ref: unknown, manifest: InterfaceManifest): Promise<RemoteTarget> {
  const state = remoteStateOf(ref);
  if (!state) {
    if (ref === null || typeof ref !== 'object') throw new NoInterfaceError(`[no-interface] expected an object or a proxy to bind to ${manifest.id}`);
    const local = queryInterface(ref, manifest);
    return {
      invoke: async (index, args) => {
        const invoker = Number.isInteger(index) ? local.stub[index] : undefined;
        if (!invoker) throw new NoInterfaceError(`[no-interface] interface ${manifest.id} has no method #${index}; regenerate the proxy from the same source as the object's stub`);
        return invoker(ref, args);
      },
    };
  }
  await serviceOf(state.apartment, InterfacesService).queryInterface(state.oid, manifest.id, manifest.version);
  return { invoke: (index, args) => state.host.callRemote(state, index, args) };
}

// The owner's side of QueryInterface for generated interfaces: does an object's class declare the
// interface a caller asks for, and which of the caller's members can it serve? Per member: a caller
// built against an older interface keeps calling the members that did not change.
import { InvalidArgumentError, NoInterfaceError } from './errors.js';
import type { RemoteInterface } from './interface-manifest.js';

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
  const boundedText = (v: unknown, what: string): string => {
    if (typeof v !== 'string' || v.length > 1024) throw new InvalidArgumentError(`[bad-request] queryInterface: ${what} must be a string of at most 1024 characters`, { parameter: what });
    return v;
  };
  if (!Array.isArray(members) || members.length > MAX_MEMBERS) throw new InvalidArgumentError(`[bad-request] queryInterface: members must be an array of at most ${MAX_MEMBERS} hashes`, { parameter: 'members' });
  return { id: boundedText(id, 'id'), version: boundedText(version, 'version'), members: members.map((m) => boundedText(m, 'members')) };
}

/** Check that `object`'s class declares the requested interface (QueryInterface); returns the member map. */
export function queryInterface(object: object, request: InterfaceRequest): MemberMap {
  if (object === null || (typeof object !== 'object' && typeof object !== 'function')) {
    throw new InvalidArgumentError(`[query-interface] queryInterface() asks an object; got ${object === null ? 'null' : typeof object}`, { parameter: 'object' });
  }
  const r = request as Partial<InterfaceRequest> | null;
  if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.version !== 'string' || !Array.isArray(r.members)) {
    throw new InvalidArgumentError('[query-interface] queryInterface() takes a request made by interfaceRequest(manifest): { id, version, members }', { parameter: 'request' });
  }
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

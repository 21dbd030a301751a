// What every apartment's control object answers, main or worker: create an object here, report
// counts, and serve the marshal tokens it handed out.
import { DisconnectedError, InvalidArgumentError } from '../lib/errors.js';
import { interfaceRequest, queryInterface, type MemberMap } from '../marshal/interface-query.js';
import { apartmentStats, type ApartmentStats } from './apartment-stats.js';
import type { LocalApartment } from './local-apartment.js';

/** The control methods common to all apartments; invoked only by the runtime's own calls. */
export class ControlBase {
  constructor(protected readonly apartment: LocalApartment) {}

  createObject(className: unknown, args: unknown): Promise<object> {
    if (typeof className !== 'string') throw new InvalidArgumentError('[create-class] the class name must be a string', { parameter: 'className' });
    return this.apartment.loader.construct(className, args as unknown[]);
  }

  stats(): ApartmentStats {
    return apartmentStats(this.apartment);
  }

  /** Does exported object `oid` implement interface `id`, and which of the caller's members can it serve? (generated proxies bind with this) */
  queryInterface(oid: unknown, id: unknown, version: unknown, members: unknown): MemberMap {
    const entry = typeof oid === 'number' ? this.apartment.endpoint.exports.get(oid) : undefined;
    if (!entry) throw new DisconnectedError(`[object-gone] object ${String(oid)} is not exported here`, { code: 'CO_E_OBJNOTCONNECTED' });
    return queryInterface(entry.object, interfaceRequest(id, version, members));
  }

  /** Another apartment unmarshals a token this apartment handed out. */
  unmarshal(id: unknown): object {
    return this.apartment.marshalTable.unmarshal(tokenId(id));
  }

  revokeMarshal(id: unknown): boolean {
    return this.apartment.marshalTable.revoke(tokenId(id));
  }
}

function tokenId(id: unknown): number {
  if (typeof id !== 'number') throw new InvalidArgumentError('[marshal-token] the token id must be a number', { parameter: 'id' });
  return id;
}

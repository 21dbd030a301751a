// The control service generated proxies bind through (COM's QueryInterface across apartments):
// every apartment answers whether one of its exported objects implements an interface version.
import { ANY_ROLE, type ControlRouter } from '../apartments/control-plane.js';
import { id, name } from '../apartments/control-args.js';
import type { LocalApartment } from '../apartments/local-apartment.js';
import { DisconnectedError } from '../marshal/errors.js';
import { InterfacesService, queryInterface } from './interface-binding.js';

/** Serve interface queries on the objects `apartment` exports. */
export function serveInterfaces(router: ControlRouter, apartment: LocalApartment): void {
  router.register(InterfacesService, {
    queryInterface: {
      roles: ANY_ROLE,
      check: (args) => [id(args[0], 'oid'), name(args[1], 'id'), name(args[2], 'version')],
      run: (_caller, oid, iid, version) => {
        const entry = apartment.endpoint.exports.get(oid);
        if (!entry) throw new DisconnectedError(`[object-gone] object ${oid} is not exported here`, { code: 'CO_E_OBJNOTCONNECTED' });
        queryInterface(entry.object, { id: iid, version });
        return true;
      },
    },
  });
}

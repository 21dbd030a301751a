// The control service generated proxies bind through (COM's QueryInterface across apartments):
// every apartment answers whether one of its exported objects implements an interface, and which
// of the caller's members it can serve.
import { ANY_ROLE, type ControlRouter } from '../apartments/control-plane.js';
import { id } from '../apartments/control-args.js';
import type { LocalApartment } from '../apartments/local-apartment.js';
import { interfaceRequest, InterfacesService, queryInterface } from './interface-binding.js';

/** Serve interface queries on the objects `apartment` exports. */
export function serveInterfaces(router: ControlRouter, apartment: LocalApartment): void {
  router.register(InterfacesService, {
    queryInterface: {
      roles: ANY_ROLE,
      check: (args) => {
        const request = interfaceRequest(args[1], args[2], args[3]);
        return [id(args[0], 'oid'), request.id, request.version, [...request.members]];
      },
      run: (caller, oid, iid, version, members) => {
        const entry = apartment.endpoint.exports.get(oid);
        // Only a holder of a reference may ask about an object: an id alone says nothing of its class.
        if (!entry || (caller.apartment !== apartment.id && !entry.counts.has(caller.apartment))) {
          throw apartment.endpoint.notGranted(caller.apartment, oid, 'asked about the interfaces of');
        }
        return queryInterface(entry.object, { id: iid, version, members });
      },
    },
  });
}

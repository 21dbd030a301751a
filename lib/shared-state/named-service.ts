// The control service behind named objects and once(): every open and create-once decision is
// made by the main apartment's registry, asked through this service from any apartment.
import { ANY_ROLE, controlService, type ControlRouter } from '../../apartments/control-plane.js';
import { id, name, oneOf } from '../../apartments/control-args.js';
import { InvalidArgumentError } from '../../marshal/errors.js';
import type { NamedGrant, NamedKind, NamedRegistry } from './named-registry.js';

/** Named shared objects and create-once values (served by the main apartment). */
export interface NamedApi {
  open(kind: NamedKind, name: string, bytes: number): NamedGrant;
  publish(name: string): void;
  abandon(name: string): void;
  close(name: string): void;
  onceBegin(name: string): { build?: true; value?: unknown };
  onceDone(name: string, value: unknown): void;
  onceFailed(name: string): void;
}
export const NamedService = controlService<NamedApi>('named');

/** The largest named memory segment an apartment may ask for (1 GiB). */
const MAX_BYTES = 1 << 30;

/** Serve the named-object service from `registry` on the main apartment's router. */
export function serveNamed(router: ControlRouter, registry: NamedRegistry): void {
  const one = (args: unknown[]): [string] => [name(args[0], 'name')];
  router.register(NamedService, {
    open: {
      roles: ANY_ROLE,
      check: (args) => {
        const bytes = id(args[2], 'bytes');
        if (bytes < 1 || bytes > MAX_BYTES) throw new InvalidArgumentError(`[named-size] a named object is 1 byte to 1 GiB; got ${bytes}`, { parameter: 'bytes' });
        return [oneOf(args[0], 'kind', ['mutex', 'memory', 'counter'] as const), name(args[1], 'name'), bytes];
      },
      run: (caller, kind, named, bytes) => registry.open(caller.apartment, kind, named, bytes),
    },
    publish: { roles: ANY_ROLE, check: one, run: (caller, named) => registry.publish(caller.apartment, named) },
    abandon: { roles: ANY_ROLE, check: one, run: (caller, named) => registry.abandon(caller.apartment, named) },
    close: { roles: ANY_ROLE, check: one, run: (caller, named) => registry.close(caller.apartment, named) },
    onceBegin: { roles: ANY_ROLE, check: one, run: (caller, named) => registry.onceBegin(caller.apartment, named) },
    onceDone: { roles: ANY_ROLE, check: (args) => [name(args[0], 'name'), args[1]], run: (caller, named, value) => registry.onceDone(caller.apartment, named, value) },
    onceFailed: { roles: ANY_ROLE, check: one, run: (caller, named) => registry.onceFailed(caller.apartment, named) },
  });
}

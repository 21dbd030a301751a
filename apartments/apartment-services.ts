// The engine's services every apartment serves: creating objects here (any apartment may ask), and
// on worker apartments what only the main apartment may ask of them (stats, classes, hooks,
// deadlock breaks, reset, close).
import { ANY_ROLE, MAIN_ROLE, type ControlRouter } from './control-plane.js';
import { id, list, name, none, record, text } from './control-args.js';
import { ApartmentService, ObjectsService } from './engine-services.js';
import type { ClassDescriptor } from './class-table.js';
import type { HooksRegistration } from './apartment-hooks.js';
import type { LocalApartment } from './local-apartment.js';
import { DeadlockError } from '../marshal/errors.js';

/** Serve `objects.createObject` in `apartment`. */
export function serveObjects(router: ControlRouter, apartment: LocalApartment): void {
  router.register(ObjectsService, {
    createObject: {
      roles: ANY_ROLE,
      check: (args) => [name(args[0], 'className'), list(args[1], 'args', 1_000)],
      run: (_caller, className, args) => apartment.loader.construct(className, args),
    },
  });
}

/** Serve what the main apartment asks of worker apartment `apartment`. */
export function serveApartment(router: ControlRouter, apartment: LocalApartment, labels: Map<number, string>, onClose: () => void): void {
  router.register(ApartmentService, {
    stats: { roles: MAIN_ROLE, check: none, run: () => apartment.stats() },
    learnLabel: {
      roles: MAIN_ROLE,
      check: (args) => [id(args[0], 'id'), text(args[1], 'label', 1024)],
      run: (_caller, peer, label) => {
        labels.set(peer, label);
        return true;
      },
    },
    registerClass: {
      roles: MAIN_ROLE,
      check: (args) => [classDescriptor(args[0])],
      run: (_caller, descriptor) => {
        apartment.registerClass(descriptor);
        return true;
      },
    },
    breakWait: {
      roles: MAIN_ROLE,
      check: (args) => [id(args[0], 'edgeId'), text(args[1], 'message', 16_384)],
      run: (_caller, edgeId, message) => apartment.admission.breakWait(edgeId, new DeadlockError(message)),
    },
    registerHooks: {
      roles: MAIN_ROLE,
      check: (args) => [hooksRegistration(args[0])],
      run: (_caller, registration) => apartment.hooks.register(registration),
    },
    reset: {
      roles: MAIN_ROLE,
      check: none,
      run: async () => {
        await apartment.reset();
        return true;
      },
    },
    close: {
      roles: MAIN_ROLE,
      check: none,
      run: async () => {
        await apartment.hooks.detach('close');
        setImmediate(onClose);
        return true;
      },
    },
  });
}

function classDescriptor(value: unknown): ClassDescriptor {
  const d = record(value, 'descriptor');
  const threading = d['threading'] === undefined ? undefined : name(d['threading'], 'descriptor.threading');
  return Object.freeze({ name: name(d['name'], 'descriptor.name'), module: name(d['module'], 'descriptor.module', 65_536), export: name(d['export'], 'descriptor.export'), threading });
}

function hooksRegistration(value: unknown): HooksRegistration {
  const r = record(value, 'registration');
  return { module: name(r['module'], 'registration.module', 65_536), export: name(r['export'], 'registration.export') };
}

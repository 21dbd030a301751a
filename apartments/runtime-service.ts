// The engine's service the main apartment serves to worker apartments: links to peers, placement
// decisions, and one-way notifications (log lines, wait-for edges, "nothing referenced").
import type { WaitEdge } from './admission.js';
import type { NamedAssignment } from './assignment-names.js';
import { APARTMENT_ROLES, type ControlRouter } from './control-plane.js';
import { id, list, name, oneOf, record, text } from './control-args.js';
import type { CreationMode } from './contract.js';
import { RuntimeService } from './engine-services.js';
import type { LogEntry } from './logger.js';
import { InvalidArgumentError } from '../marshal/errors.js';
import { checkLinkOffer, type LinkOffer, type LinkReply } from './links.js';

/** What the runtime does for the requests of its worker apartments. */
export interface RuntimeRequests {
  /** A link to `target` for `requester`, or null when one is already on its way. */
  connect(requester: number, target: number, offer: LinkOffer | undefined): LinkReply | null;
  place(requester: number, className: string, mode: CreationMode, assignment: NamedAssignment | undefined): Promise<number>;
  unreferenced(apartment: number): void;
  log(entry: LogEntry): void;
  waitAdded(edge: WaitEdge): void;
  waitRemoved(apartment: number, id: number): void;
}

/** Serve the runtime service on the main apartment's router. */
export function serveRuntime(router: ControlRouter, runtime: RuntimeRequests): void {
  router.register(RuntimeService, {
    connect: {
      roles: APARTMENT_ROLES,
      check: (args) => [id(args[0], 'target'), checkLinkOffer(args[1])],
      run: (caller, target, offer) => runtime.connect(caller.apartment, target, offer),
    },
    place: {
      roles: APARTMENT_ROLES,
      check: (args) => [name(args[0], 'className'), oneOf(args[1], 'mode', ['external', 'in-process'] as const), assignmentSpec(args[2])],
      run: (caller, className, mode, assignment) => runtime.place(caller.apartment, className, mode, assignment),
    },
    unreferenced: { roles: APARTMENT_ROLES, check: () => [], run: (caller) => runtime.unreferenced(caller.apartment) },
    log: {
      roles: APARTMENT_ROLES,
      check: (args) => [oneOf(args[0], 'level', ['debug', 'info', 'warn', 'error'] as const), text(String(args[1]), 'message', 65_536), causalityOf(args[2])],
      run: (caller, level, message, causality) => runtime.log({ level, message, apartment: caller.apartment, causality }),
    },
    waitAdded: {
      roles: APARTMENT_ROLES,
      check: (args) => [waitEdge(args[0])],
      run: (caller, edge) => {
        if (edge.apartment !== caller.apartment) throw new InvalidArgumentError('[wait-edge] an apartment reports only its own waits', { parameter: 'edge' });
        runtime.waitAdded(edge);
      },
    },
    waitRemoved: { roles: APARTMENT_ROLES, check: (args) => [id(args[0], 'id')], run: (caller, edgeId) => runtime.waitRemoved(caller.apartment, edgeId) },
  });
}

function causalityOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new InvalidArgumentError('[log] the causality id of a log entry must be an integer', { parameter: 'causality' });
  return value;
}

function assignmentSpec(value: unknown): NamedAssignment | undefined {
  if (value === undefined || typeof value === 'string') return value as NamedAssignment | undefined;
  if (typeof value === 'object' && value !== null) {
    // Starting processes is the host's to decide: a plugin may not place objects in a process server.
    if ('process' in value) throw new InvalidArgumentError('[assignment] only the host may name a process server in an assignment; leave process out', { parameter: 'assignment.process' });
    if ('node' in value) throw new InvalidArgumentError('[assignment] only the host may name a node in an assignment; leave node out', { parameter: 'assignment.node' });
    return value as NamedAssignment;
  }
  throw new InvalidArgumentError('[assignment] an apartment can name a built-in assignment policy, not pass a function; register custom policies on the runtime', { parameter: 'assignment' });
}

function waitEdge(value: unknown): WaitEdge {
  const e = record(value, 'edge');
  const holders = list(e['holders'], 'edge.holders', 1_024).map((h, i) => id(h, `edge.holders[${i}]`));
  return {
    id: id(e['id'], 'edge.id'),
    apartment: id(e['apartment'], 'edge.apartment'),
    waiter: id(e['waiter'], 'edge.waiter'),
    holders,
    object: text(e['object'], 'edge.object', 1_024),
    method: text(e['method'], 'edge.method', 1_024),
  };
}


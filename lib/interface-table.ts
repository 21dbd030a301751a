// The control services behind explicit marshaling: every apartment serves the tokens it handed
// out ('marshal-tokens'), and the main apartment keeps the global interface table
// ('interface-table'), cookie → table-strong token.
import { ANY_ROLE, controlService, type ControlRouter } from '../apartments/control-plane.js';
import { id, record, text } from '../apartments/control-args.js';
import type { LocalApartment } from '../apartments/local-apartment.js';
import type { MarshalToken } from '../apartments/marshal-table.js';
import { AccessDeniedError, ApartmentError, DisconnectedError, InvalidArgumentError } from '../marshal/errors.js';
import { randomId } from '../marshal/random-ids.js';
import { isRuntimeError } from '../marshal/clone-failure.js';
import { serviceOf } from '../apartments/main-call.js';
import { localApartment } from '../apartments/local-context.js';

/** Tokens an apartment handed out (served by every apartment). */
export interface MarshalTokensApi {
  unmarshal(id: string): object;
  revoke(id: string): boolean;
}
export const MarshalTokensService = controlService<MarshalTokensApi>('marshal-tokens');

/** The global interface table (served by the main apartment). */
export interface InterfaceTableApi {
  register(token: MarshalToken): string;
  lookup(cookie: string): MarshalToken;
  /** Drop the entry and revoke its token where it was made, in one step: a caller that dies after asking leaves nothing alive. */
  revoke(cookie: string): void;
}
export const InterfaceTableService = controlService<InterfaceTableApi>('interface-table');

/** Revoke `token` where it was made: here, or through the apartment that made it. */
export async function revokeToken(token: MarshalToken): Promise<void> {
  const here = localApartment();
  if (token.apartment === here.id) here.marshalTable.revoke(token.id);
  else await serviceOf(token.apartment, MarshalTokensService).revoke(token.id);
}

/** Serve the tokens of `apartment`. */
export function serveMarshalTokens(router: ControlRouter, apartment: LocalApartment): void {
  router.register(MarshalTokensService, {
    unmarshal: { roles: ANY_ROLE, check: (args) => [text(args[0], 'id', 64)], run: (_caller, token) => apartment.marshalTable.unmarshal(token) },
    revoke: { roles: ANY_ROLE, check: (args) => [text(args[0], 'id', 64)], run: (_caller, token) => apartment.marshalTable.revoke(token) },
  });
}

/**
 * How many entries one apartment other than the main one may keep in the table: each is kept by
 * the main apartment for as long as that apartment lives, so a plugin registering in a loop would
 * otherwise grow the host without bound.
 */
export const MAX_GIT_ENTRIES = 4_096;

/** The longest cookie: 32 hex digits, and for a node's runtime `@<node>.<epoch>` (each at most 64). */
const MAX_COOKIE = 200;

/** Other runtimes' cookies, once this runtime is a node of a cluster (docs/cluster.md). */
export interface ClusterCookies {
  /** What this runtime's cookies end in: `@<node>.<epoch>`, its node and this run of it. */
  readonly suffix: string;
  /** The object another runtime registered as `cookie` (a proxy the main apartment holds); undefined when the cookie names no other runtime. */
  get(cookie: string): Promise<object> | undefined;
  /** Revoke another runtime's `cookie` there; undefined when the cookie names no other runtime. */
  revoke(cookie: string): Promise<void> | undefined;
}

/** The main apartment's side of the global interface table, for what the host does when an apartment goes. */
export interface InterfaceTable {
  /** Forget every entry `apartment` registered (it closed or faulted: its tokens went with it). */
  dropApartment(apartment: number): void;
  /** This runtime joined a cluster: its cookies name its node, and other runtimes' resolve through `cookies`. */
  share(cookies: ClusterCookies | undefined): void;
  /** The object registered here as `cookie`, as the main apartment holds it, for another runtime. */
  serve(cookie: string): Promise<unknown>;
  /** Revoke this runtime's `cookie` for another runtime. */
  revokeServed(cookie: string): Promise<void>;
}

/** Serve the global interface table on the main apartment; `marshal` makes a token of the main apartment's for a proxy it holds. */
export function serveInterfaceTable(router: ControlRouter, marshal: (proxy: object) => MarshalToken): InterfaceTable {
  // Cookies are random (128 bits): holding one is what lets an apartment look an entry up or revoke it.
  const table = new Map<string, MarshalToken>();
  // The cookies of each apartment's tokens: an apartment that is gone took its tokens along, so its
  // entries are dropped with it instead of being kept (and handed out) for the life of the process.
  const byApartment = new Map<number, Set<string>>();
  let cluster: ClusterCookies | undefined;
  const notRegistered = (): DisconnectedError => new DisconnectedError('[git] the cookie is not registered (revoked, never handed out, or its apartment or runtime is gone); register the object again', { code: 'CO_E_OBJNOTCONNECTED' });
  const lookup = (cookie: string): MarshalToken => {
    const entry = table.get(cookie);
    if (!entry) throw notRegistered();
    return entry;
  };
  const revoke = async (cookie: string): Promise<void> => {
    const entry = lookup(cookie);
    // The token first, here rather than by the caller after the answer: a caller that died in
    // between left the object alive in its apartment until that apartment ended. An apartment
    // that is gone took its tokens along; any other failure keeps the entry, to revoke again.
    try {
      await revokeToken(entry);
    } catch (err) {
      if (!isRuntimeError(err, DisconnectedError)) throw err;
    }
    table.delete(cookie);
    const cookies = byApartment.get(entry.apartment);
    cookies?.delete(cookie);
    if (cookies?.size === 0) byApartment.delete(entry.apartment);
  };
  router.register(InterfaceTableService, {
    register: {
      roles: ANY_ROLE,
      check: (args) => {
        const t = record(args[0], 'token');
        if (t['kind'] !== 'table-strong') throw new InvalidArgumentError('[git] register needs a table-strong token', { parameter: 'token' });
        return [{ apartment: id(t['apartment'], 'token.apartment'), id: text(t['id'], 'token.id', 64), kind: 'table-strong' }];
      },
      run: (caller, token) => {
        // COM's RegisterInterfaceInGlobal marshals in the registering apartment: a token of another
        // apartment would be an entry made in its name (kept, and counted, as its own).
        if (token.apartment !== caller.apartment) {
          throw new AccessDeniedError(`[git-denied] apartment ${caller.apartment} may register only tokens of its own apartment, not of apartment ${token.apartment}; call globalInterfaceTable.register(obj) where the object lives or is held`);
        }
        let cookies = byApartment.get(token.apartment);
        if (caller.role !== 'main' && (cookies?.size ?? 0) >= MAX_GIT_ENTRIES) {
          throw new ApartmentError('ERROR_BUSY', `[git-quota] apartment ${caller.apartment} has ${MAX_GIT_ENTRIES} objects registered in the global interface table already (at most ${MAX_GIT_ENTRIES}); revoke cookies it no longer hands out first`);
        }
        const cookie = randomId() + (cluster?.suffix ?? '');
        table.set(cookie, token);
        if (!cookies) byApartment.set(token.apartment, (cookies = new Set()));
        cookies.add(cookie);
        return cookie;
      },
    },
    lookup: {
      roles: ANY_ROLE,
      check: (args) => [text(args[0], 'cookie', MAX_COOKIE)],
      run: async (_caller, cookie) => {
        const entry = table.get(cookie);
        if (entry) return entry;
        // Another runtime's cookie: the main apartment opens the object there and hands the caller a token for its proxy.
        const remote = cluster?.get(cookie);
        if (!remote) throw notRegistered();
        return marshal(await remote);
      },
    },
    revoke: {
      roles: ANY_ROLE,
      check: (args) => [text(args[0], 'cookie', MAX_COOKIE)],
      run: (_caller, cookie) => (table.has(cookie) ? revoke(cookie) : cluster?.revoke(cookie) ?? revoke(cookie)),
    },
  });
  return {
    dropApartment(apartment) {
      for (const cookie of byApartment.get(apartment) ?? []) table.delete(cookie);
      byApartment.delete(apartment);
    },
    share(cookies) {
      cluster = cookies;
    },
    async serve(cookie) {
      // Only this run's own cookies: one of another node, or of an earlier run of this one, is nobody's here.
      if (!cluster || !cookie.endsWith(cluster.suffix)) throw notRegistered();
      const token = lookup(cookie);
      return token.apartment === 0 ? localApartment().marshalTable.unmarshal(token.id) : serviceOf(token.apartment, MarshalTokensService).unmarshal(token.id);
    },
    revokeServed(cookie) {
      if (!cluster || !cookie.endsWith(cluster.suffix)) return Promise.reject(notRegistered());
      return revoke(cookie);
    },
  };
}

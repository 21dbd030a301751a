// Marshaling object references explicitly (CoMarshalInterface / CoUnmarshalInterface) and the
// global interface table (GIT): a cookie any apartment can turn into a reference valid for itself,
// revocable from any apartment.
import type { LocalApartment } from '../apartments/local-apartment.js';
import type { MarshalKind, MarshalToken } from '../apartments/marshal-table.js';
import { InvalidArgumentError } from '../marshal/errors.js';
import { mainService, serviceOf } from '../apartments/main-call.js';
import { InterfaceTableService, MarshalTokensService, revokeToken } from './interface-table.js';
import { localApartment } from '../apartments/local-context.js';

function here(): LocalApartment {
  return localApartment();
}

function checkToken(token: unknown): MarshalToken {
  const t = token as Partial<MarshalToken> | null;
  // An apartment id is a whole number ≥ 0: anything else is a broken token, not an apartment that went away.
  if (!t || !Number.isSafeInteger(t.apartment) || (t.apartment as number) < 0 || typeof t.id !== 'string') {
    throw new InvalidArgumentError('[marshal-token] expected a token from marshalInterface()', { parameter: 'token' });
  }
  return t as MarshalToken;
}

/** Marshal `obj` (an object of this apartment, or a proxy it holds) into a token for any apartment. */
export function marshalInterface(obj: object, kind: MarshalKind = 'normal'): MarshalToken {
  return here().marshalTable.marshal(obj, kind);
}

/** Turn a token into a reference valid in this apartment: the object itself at home, a proxy elsewhere. */
export async function unmarshalInterface<T = unknown>(token: MarshalToken): Promise<T> {
  const t = checkToken(token);
  const apt = here();
  if (t.apartment === apt.id) return apt.marshalTable.unmarshal(t.id) as T;
  return (await serviceOf(t.apartment, MarshalTokensService).unmarshal(t.id)) as T;
}

/** Revoke a token (from any apartment): later unmarshals fail. */
export async function revokeMarshal(token: MarshalToken): Promise<void> {
  await revokeToken(checkToken(token));
}

/** The runtime-wide table of registered references, by cookie. */
export const globalInterfaceTable = {
  /** Register `obj` (table-strong in this apartment) and get a cookie usable from any apartment. */
  async register(obj: object): Promise<string> {
    const token = marshalInterface(obj, 'table-strong');
    return mainService(InterfaceTableService).register(token);
  },
  /** A reference to the registered object, valid in the calling apartment. */
  async get<T = unknown>(cookie: string): Promise<T> {
    return unmarshalInterface<T>(await mainService(InterfaceTableService).lookup(cookie));
  },
  /** Remove the registration (from any apartment); the object is no longer kept alive by it. */
  async revoke(cookie: string): Promise<void> {
    await mainService(InterfaceTableService).revoke(cookie);
  },
};

export type { MarshalKind, MarshalToken };

// COM's marshal kinds, per apartment: an object marshaled into a token that any apartment may
// unmarshal. `normal` unmarshals once (a second unmarshal fails with CO_E_OBJNOTCONNECTED),
// `table-strong` any number of times and keeps the object alive until revoked, `table-weak` any
// number of times without keeping it alive. Owner apartment only.
import { DisconnectedError, InvalidArgumentError, shownValue } from '../marshal/errors.js';
import { byRef } from '../marshal/by-ref.js';
import { randomId } from '../marshal/random-ids.js';

/** How a marshaled token may be used. */
export type MarshalKind = 'normal' | 'table-strong' | 'table-weak';

/**
 * A marshaled object: plain data, usable from any apartment of the runtime. Its `id` is random
 * (128 bits): holding the token is what lets an apartment unmarshal or revoke it, so it cannot be
 * guessed from other tokens.
 */
export interface MarshalToken {
  readonly apartment: number;
  readonly id: string;
  readonly kind: MarshalKind;
}

interface Entry {
  kind: MarshalKind;
  strong: object | undefined;
  weak: WeakRef<object> | undefined;
}

/** The tokens an apartment has handed out. */
export class MarshalTable {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly apartment: number) {}

  marshal(obj: unknown, kind: MarshalKind): MarshalToken {
    if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) {
      throw new InvalidArgumentError('[marshal-kind] only objects and functions can be marshaled by reference', { parameter: 'obj' });
    }
    if (kind !== 'normal' && kind !== 'table-strong' && kind !== 'table-weak') {
      throw new InvalidArgumentError(`[marshal-kind] kind must be 'normal', 'table-strong' or 'table-weak'; got ${shownValue(kind)}`, { parameter: 'kind' });
    }
    const target = typeof obj === 'function' ? obj : byRef(obj);
    const id = randomId();
    this.entries.set(id, kind === 'table-weak' ? { kind, strong: undefined, weak: new WeakRef(target) } : { kind, strong: target, weak: undefined });
    return { apartment: this.apartment, id, kind };
  }

  unmarshal(id: string): object {
    const entry = this.entries.get(id);
    const target = entry?.strong ?? entry?.weak?.deref();
    if (!entry || !target) {
      if (entry) this.entries.delete(id);
      throw new DisconnectedError(`[marshal-token] the token is not (or no longer) valid: it was revoked, a normal token was already unmarshaled, or a weak one's object was collected`, { code: 'CO_E_OBJNOTCONNECTED' });
    }
    if (entry.kind === 'normal') this.entries.delete(id);
    return target;
  }

  revoke(id: string): boolean {
    return this.entries.delete(id);
  }

  /** Revoke every token (the apartment is being reset for another owner, whose objects they must not reach). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

// Named mutexes held for apartments that share no memory with the main apartment (process
// apartments). Such an apartment cannot touch the mutex's memory, so the main apartment takes the
// very same SharedMutex on its behalf, and worker and process apartments exclude one another. The
// apartment's named memories travel with the lock: the grant carries a copy of each, and the bytes
// the apartment changed come back with its unlock and are written before the mutex passes on — the
// seed document's shared memory guarded by a named mutex, coherent at lock boundaries. Tokens are
// chosen by the apartment, so it can give up a lock whose grant it never saw (a timeout, an abort).
// Main apartment only.
import { ApartmentError, DisconnectedError, InvalidArgumentError } from '../../marshal/errors.js';
import type { NamedRegistry } from './named-registry.js';
import { SharedMutex, type LockGuard } from './shared-mutex.js';

/** What a granted lock carries: a copy of every named memory the apartment holds. */
export interface MirroredGrant {
  readonly memories: [name: string, bytes: Uint8Array][];
}

/** A run of bytes an apartment changed in one of its named memories. */
export type MemoryWrite = [name: string, offset: number, bytes: Uint8Array];

/** At most this many locks held or waited for by one apartment: a peer cannot fill a mutex's waiter slots. */
export const MAX_MIRRORED_LOCKS = 64;

type Entry =
  | { readonly state: 'waiting'; readonly name: string; readonly abort: AbortController }
  | { readonly state: 'held'; readonly name: string; readonly guard: LockGuard };

/** Pass a lock on, or end its wait. */
function release(entry: Entry): void {
  if (entry.state === 'waiting') entry.abort.abort();
  else entry.guard.unlock();
}

/** The mirrored locks of every apartment, by apartment and the apartment's token. */
export class MirroredLocks {
  private readonly entries = new Map<number, Map<number, Entry>>();

  constructor(
    private readonly registry: NamedRegistry,
    private readonly isLive: (apartment: number) => boolean,
    private readonly warn: (message: string) => void,
  ) {}

  /** Take named mutex `name` for `apartment` under its `token`; the grant carries its memories. */
  async lock(apartment: number, name: string, token: number, timeoutMs: number | undefined): Promise<MirroredGrant> {
    const sab = this.registry.heldBy(apartment, name, 'mutex');
    if (!sab) throw new ApartmentError('E_UNEXPECTED', `[named-lock] this apartment holds no handle on a named mutex '${name}'; open it with named.mutex() first`);
    const held = this.entries.get(apartment);
    if (held?.has(token)) throw new InvalidArgumentError(`[named-lock] lock token ${token} is already in use by this apartment; use a new token per lock`, { parameter: 'token' });
    if ((held?.size ?? 0) >= MAX_MIRRORED_LOCKS) throw new ApartmentError('ERROR_BUSY', `[named-lock-full] this apartment holds or waits for ${MAX_MIRRORED_LOCKS} named locks already; unlock some first`);
    const mine = this.of(apartment);
    const abort = new AbortController();
    const waiting: Entry = { state: 'waiting', name, abort };
    mine.set(token, waiting);
    // Only this wait's own entry is touched after it: once given up, its token is free, and the
    // apartment may have used it for another lock meanwhile.
    const forgetMine = (): void => {
      if (mine.get(token) === waiting) this.forget(apartment, token);
    };
    let guard: LockGuard;
    try {
      guard = await SharedMutex.fromHandle({ sab, name, level: undefined }).lock({ signal: abort.signal, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    } catch (err) {
      forgetMine();
      throw err;
    }
    if (mine.get(token) !== waiting || !this.isLive(apartment)) {
      // Given up (its unlock came first) or its apartment died while it waited: pass the lock on.
      guard.unlock();
      forgetMine();
      throw new DisconnectedError(`[named-lock] the lock on '${name}' was given up before it was granted`);
    }
    mine.set(token, { state: 'held', name, guard });
    return { memories: this.registry.memoriesOf(apartment).map(([memory, bytes]) => [memory, new Uint8Array(bytes).slice()]) };
  }

  /**
   * Release `apartment`'s lock `token`, first writing the bytes it changed; a lock still waited for
   * is given up. Writes are checked in full before any lands: a bad one changes nothing, and the
   * lock is released all the same before the refusal is thrown (kept, it would hold every other
   * apartment waiting for it until this one ended).
   */
  unlock(apartment: number, token: number, writes: readonly MemoryWrite[]): void {
    const mine = this.entries.get(apartment);
    const entry = mine?.get(token);
    if (!mine || !entry) throw new ApartmentError('E_UNEXPECTED', `[named-unlock] this apartment holds no lock under token ${token}; unlock each lock once`);
    this.forget(apartment, token);
    let targets: { view: Uint8Array; offset: number; bytes: Uint8Array }[];
    try {
      if (entry.state === 'waiting' && writes.length > 0) throw new InvalidArgumentError(`[named-write] lock token ${token} was never granted; nothing may be written under it, and the wait was given up`, { parameter: 'writes' });
      targets = writes.map(([memory, offset, bytes]) => {
        const sab = this.registry.heldBy(apartment, memory, 'memory');
        if (!sab) throw new InvalidArgumentError(`[named-write] this apartment holds no handle on named memory '${memory}'; it cannot write there, so nothing was written and the lock was released`, { parameter: 'writes' });
        if (offset + bytes.byteLength > sab.byteLength) {
          throw new InvalidArgumentError(`[named-write] ${bytes.byteLength} bytes at offset ${offset} do not fit named memory '${memory}' of ${sab.byteLength} bytes; nothing was written and the lock was released`, { parameter: 'writes' });
        }
        return { view: new Uint8Array(sab), offset, bytes };
      });
    } catch (err) {
      release(entry);
      throw err;
    }
    for (const { view, offset, bytes } of targets) view.set(bytes, offset);
    release(entry);
  }

  /** Give lock `token` back unchanged, granted or still waited for; false when there is none (it ended already). */
  giveUp(apartment: number, token: number): boolean {
    if (!this.entries.get(apartment)?.has(token)) return false;
    this.unlock(apartment, token, []);
    return true;
  }

  /**
   * An apartment ended, or was reset for its pool's next owner (`why`): the locks it held pass on
   * (its unpublished changes are dropped), its waits end. The warning says which: an apartment
   * that was reset is still running, and whoever reads the log looks for a different cause.
   */
  dropApartment(apartment: number, why: 'ended' | 'reset' = 'ended'): void {
    const mine = this.entries.get(apartment);
    if (!mine) return;
    this.entries.delete(apartment);
    for (const entry of mine.values()) {
      if (entry.state === 'waiting') {
        entry.abort.abort();
        continue;
      }
      const what = why === 'reset' ? `was reset for its pool's next owner while holding named mutex '${entry.name}'` : `ended holding named mutex '${entry.name}'`;
      const next = why === 'reset' ? '; unlock named mutexes before checking an apartment in' : '';
      this.warn(`[mutex-abandoned] apartment ${apartment} ${what}; the changes it made under it were never written, and the next waiter has the lock${next}`);
      entry.guard.unlock();
    }
  }

  /** Drop one entry; an apartment with none left is forgotten. */
  private forget(apartment: number, token: number): void {
    const mine = this.entries.get(apartment);
    mine?.delete(token);
    if (mine?.size === 0) this.entries.delete(apartment);
  }

  private of(apartment: number): Map<number, Entry> {
    let mine = this.entries.get(apartment);
    if (!mine) this.entries.set(apartment, (mine = new Map()));
    return mine;
  }
}

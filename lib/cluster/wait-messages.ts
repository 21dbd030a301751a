// The messages runtimes of a cluster exchange to find deadlock cycles that pass through several of
// them (docs/cluster.md, "Deadlocks across runtimes"): JSON on `<cluster>.<to>.waits.<from>`. A
// node reports its waits to the coordinator; the coordinator asks the nodes of a cycle whether its
// waits still hold, then tells one node to refuse its wait. Each message is checked field by field
// here before anything reads it: what another node sends is hostile until it parses.
import { readJson } from './control-messages.js';

/** The largest waits message read, in bytes (NATS's default payload limit). */
export const MAX_WAITS_MESSAGE_BYTES = 1_048_576;
/** The most waits one report adds or removes; a node with more sends several. */
export const MAX_EDGES_PER_REPORT = 1_000;
/** The most chains one wait may be held by (readers of one object). */
export const MAX_HOLDERS = 256;
/** The longest object, method or apartment name in a report. */
const MAX_TEXT = 200;
/** The longest DeadlockError message a coordinator sends. */
const MAX_MESSAGE = 16_000;
/** The largest apartment id a runtime gives (its ids count up from 1, and links sit above 2 000 000 000). */
const MAX_APARTMENT = 2 ** 32 - 1;

/** Which wait: the apartment that reported it, its id there, its waiting chain and the chains it waits for. */
export interface WaitRef {
  readonly apartment: number;
  readonly id: number;
  readonly waiter: number;
  readonly holders: readonly number[];
}

/** A wait as its runtime reports it, with what a DeadlockError names. */
export interface SharedWait extends WaitRef {
  readonly object: string;
  readonly method: string;
  /** The apartment as its runtime names it. */
  readonly label: string;
}

/** A node's waits, to the coordinator: all it has (`full`, in place of what it reported before), or what changed. */
export interface WaitsReport {
  readonly op: 'report';
  readonly full: boolean;
  readonly add: readonly SharedWait[];
  readonly gone: readonly (readonly [apartment: number, id: number])[];
}

/** The coordinator asks whether these waits still hold; the answer is `{ held: boolean[] }`. */
export interface WaitsConfirm {
  readonly op: 'confirm';
  readonly waits: readonly WaitRef[];
}

/** The coordinator tells a node to refuse one wait with DeadlockError `message`; the answer is `{ broken: boolean }`. */
export interface WaitsBreak {
  readonly op: 'break';
  readonly wait: WaitRef;
  readonly message: string;
}

export type WaitsMessage = WaitsReport | WaitsConfirm | WaitsBreak;

/** A waits message another node sent, checked; undefined when it is not one. */
export function parseWaitsMessage(bytes: Uint8Array): WaitsMessage | undefined {
  const value = readJson(bytes, MAX_WAITS_MESSAGE_BYTES);
  if (!isRecord(value)) return undefined;
  switch (value.op) {
    case 'report': {
      if (typeof value.full !== 'boolean' || !Array.isArray(value.add) || !Array.isArray(value.gone)) return undefined;
      if (value.add.length > MAX_EDGES_PER_REPORT || value.gone.length > MAX_EDGES_PER_REPORT) return undefined;
      const add: SharedWait[] = [];
      for (const item of value.add) {
        const wait = sharedWait(item);
        if (!wait) return undefined;
        add.push(wait);
      }
      const gone: [number, number][] = [];
      for (const item of value.gone) {
        if (!Array.isArray(item) || item.length !== 2 || !isApartment(item[0]) || !isCount(item[1])) return undefined;
        gone.push([item[0], item[1]]);
      }
      return { op: 'report', full: value.full, add, gone };
    }
    case 'confirm': {
      if (!Array.isArray(value.waits) || value.waits.length > MAX_EDGES_PER_REPORT) return undefined;
      const waits: WaitRef[] = [];
      for (const item of value.waits) {
        const wait = waitRef(item);
        if (!wait) return undefined;
        waits.push(wait);
      }
      return { op: 'confirm', waits };
    }
    case 'break': {
      const wait = waitRef(value.wait);
      if (!wait || typeof value.message !== 'string' || value.message.length > MAX_MESSAGE) return undefined;
      return { op: 'break', wait, message: printable(value.message) };
    }
    default:
      return undefined;
  }
}

/** The answer to a confirm, checked against the number of waits asked after; undefined when it is none. */
export function parseConfirmAnswer(bytes: Uint8Array, asked: number): boolean[] | undefined {
  const value = readJson(bytes, MAX_WAITS_MESSAGE_BYTES);
  if (!isRecord(value) || !Array.isArray(value.held) || value.held.length !== asked) return undefined;
  return value.held.every((held) => typeof held === 'boolean') ? (value.held as boolean[]) : undefined;
}

/** The answer to a break: whether the node refused the wait. */
export function parseBreakAnswer(bytes: Uint8Array): boolean {
  const value = readJson(bytes, MAX_WAITS_MESSAGE_BYTES);
  return isRecord(value) && value.broken === true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isApartment(value: unknown): value is number {
  return isCount(value) && value <= MAX_APARTMENT;
}

function waitRef(value: unknown): WaitRef | undefined {
  if (!isRecord(value) || !isApartment(value.apartment) || !isCount(value.id) || !isCount(value.waiter)) return undefined;
  const holders = value.holders;
  if (!Array.isArray(holders) || holders.length === 0 || holders.length > MAX_HOLDERS || !holders.every(isCount)) return undefined;
  return { apartment: value.apartment, id: value.id, waiter: value.waiter, holders: holders as number[] };
}

function sharedWait(value: unknown): SharedWait | undefined {
  const ref = waitRef(value);
  if (!ref) return undefined;
  const { object, method, label } = value as Record<string, unknown>;
  if (!isText(object) || !isText(method) || !isText(label)) return undefined;
  return { ...ref, object: printable(object), method: printable(method), label: printable(label) };
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TEXT;
}

/** Text another node wrote, as it may go into an error message or a log line: no control characters. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

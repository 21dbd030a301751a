// An engine copy as another apartment sent it (a clone or a move travels by value, ENGINE_COPY):
// checked before an engine is built from it, as any value a peer sends. A copy the runtime made
// always passes; anything else is a ProtocolError that names what is wrong, rather than a
// TypeError from deep inside the engine, or an engine whose start fails later.
import { ProtocolError } from '../../marshal/errors.js';
import type { EnginePayload } from './engine-contents.js';
import { checkedTimeout } from './script-turns.js';

/** What addNamedItem() accepts as a name: a script identifier. */
export const ITEM_NAME = /^[A-Za-z_$][\w$]*$/;

/** `payload` as an engine's contents, or a ProtocolError saying what is wrong with it. */
export function enginePayloadOf(payload: unknown): EnginePayload {
  if (payload === null || typeof payload !== 'object') return refuseCopy('it is not an object');
  const { code, items } = payload as { code?: unknown; items?: unknown };
  if (!Array.isArray(code) || !Array.isArray(items)) return refuseCopy('its code and items are not both arrays');
  return {
    code: code.map((block: unknown, i) => {
      const { text, persistent, timeoutMs } = (block ?? {}) as { text?: unknown; persistent?: unknown; timeoutMs?: unknown };
      if (typeof text !== 'string' || typeof persistent !== 'boolean') return refuseCopy(`code[${i}] is not script text with a persistent flag`);
      if (timeoutMs !== undefined && typeof timeoutMs !== 'number') return refuseCopy(`code[${i}].timeoutMs is not a number`);
      try {
        return { text, persistent, timeoutMs: checkedTimeout(timeoutMs, `code[${i}].timeoutMs`) };
      } catch (err) {
        return refuseCopy((err as Error).message.replace(/^\[timeout\] /, ''));
      }
    }),
    items: items.map((item: unknown, i) => {
      if (!Array.isArray(item) || typeof item[0] !== 'string' || !ITEM_NAME.test(item[0]) || typeof item[2] !== 'boolean') return refuseCopy(`items[${i}] is not a named item (a script identifier, a value, a persistent flag)`);
      return [item[0], item[1] as unknown, item[2]];
    }),
  };
}

function refuseCopy(what: string): never {
  throw new ProtocolError(`[engine-copy] a script engine's copy sent by another apartment was refused: ${what}; send engines only as clone() or move() makes them`);
}

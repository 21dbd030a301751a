// Baseline server: the same add() and echo() exposed with comlink; echoMoved() transfers its reply.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

let stored: ((x: number) => Promise<number>) | undefined;

Comlink.expose({
  sum: (a: number, b: number) => a + b,
  echo: (v: unknown) => v,
  echoMoved: (buf: ArrayBuffer) => Comlink.transfer(buf, [buf]),
  /** Keep one proxied callback for callStored(): the callback round trip without re-proxying. */
  setCallback: (fn: (x: number) => Promise<number>) => {
    stored = fn;
  },
  callStored: (x: number) => stored!(x),
}, nodeEndpoint(parentPort!));

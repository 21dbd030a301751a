// Baseline server: the same add() and echo() exposed with comlink.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

Comlink.expose({ sum: (a: number, b: number) => a + b, echo: (v: unknown) => v }, nodeEndpoint(parentPort!));

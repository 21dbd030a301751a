// Baseline server: the same add() exposed with comlink.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

Comlink.expose({ sum: (a: number, b: number) => a + b }, nodeEndpoint(parentPort!));

// Baselines for the apartment cases, built from what a Node user has without the runtime: a callback
// round trip over raw postMessage and with comlink's proxied callback, and a worker-to-worker call
// over a raw MessageChannel.
import { once } from 'node:events';
import { MessageChannel, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

/** A started baseline for the callback round trip (host → worker → host → worker → host). */
export interface CallbackBaseline {
  name: string;
  call(x: number): Promise<number>;
  close(): Promise<void>;
}

/** The worker asks the host and waits for its answer before it replies: two raw round trips. */
export async function rawCallback(back: (x: number) => Promise<number>): Promise<CallbackBaseline> {
  const worker = new Worker(new URL('./workers/raw-callback.js', import.meta.url));
  const pending = new Map<number, (v: number) => void>();
  let nextId = 1;
  worker.on('message', (msg: [number, number]) => {
    if (msg[0] < 0) {
      const qid = msg[0];
      void back(msg[1]).then((y) => worker.postMessage([qid, y]));
      return;
    }
    const r = pending.get(msg[0])!;
    pending.delete(msg[0]);
    r(msg[1]);
  });
  await once(worker, 'online');
  return {
    name: 'raw postMessage',
    call: (x) => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      worker.postMessage([id, x]);
    }),
    close: async () => {
      await worker.terminate();
    },
  };
}

/** comlink with the callback proxied once (Comlink.proxy) and kept by the worker. */
export async function comlinkCallback(back: (x: number) => Promise<number>): Promise<CallbackBaseline> {
  const worker = new Worker(new URL('./workers/comlink-echo.js', import.meta.url));
  await once(worker, 'online');
  const remote = Comlink.wrap<{ setCallback(fn: (x: number) => Promise<number>): void; callStored(x: number): number }>(nodeEndpoint(worker));
  await remote.setCallback(Comlink.proxy(back));
  return {
    name: 'comlink',
    call: (x) => remote.callStored(x),
    close: async () => {
      remote[Comlink.releaseProxy]();
      await worker.terminate();
    },
  };
}

/** Two workers joined by a MessageChannel; run(n) has the client make n sequential calls to the server. */
export async function rawPeers(): Promise<{ run(n: number): Promise<number>; close(): Promise<void> }> {
  const { port1, port2 } = new MessageChannel();
  const url = new URL('./workers/raw-peer.js', import.meta.url);
  const server = new Worker(url);
  const client = new Worker(url);
  server.postMessage({ port: port1, role: 'server' }, [port1]);
  client.postMessage({ port: port2, role: 'client' }, [port2]);
  await Promise.all([once(server, 'message'), once(client, 'message')]);
  return {
    run: async (n) => {
      client.postMessage(n);
      const [sum] = (await once(client, 'message')) as [number];
      return sum;
    },
    close: async () => {
      await Promise.all([server.terminate(), client.terminate()]);
    },
  };
}

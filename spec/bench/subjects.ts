// Everything the call-path cases compare, behind one small interface: raw postMessage, the
// runtime over ports and over shared memory, the shared-memory transport alone, comlink and
// piscina. Each runs its server in a worker.
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Piscina } from 'piscina';
import { Runtime, transfer } from '../../lib/index.js';
import type { Batch } from '../../marshal/protocol.js';
import { SharedRingTransport } from '../../marshal/transports/shared-ring-transport.js';
import { releaseAwakePlace } from '../../marshal/transports/thread-spinner.js';
import type { Adder } from './fixtures/adder.js';

/** A started subject. */
export interface Subject {
  name: string;
  sum(a: number, b: number): Promise<number>;
  /** Send `v` and get it back, copied both ways. */
  echo(v: unknown): Promise<unknown>;
  /** Send `buf` and get it back, transferred (moved, not copied) both ways. */
  echoTransfer(buf: ArrayBuffer): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * A subject over a raw request/reply server (workers/raw-echo.ts and raw-ring-echo.ts speak the
 * same requests): `post` sends [id, a, b] with what to move; `settle` is told each [id, value] reply.
 */
function requestReply(name: string, post: (request: [number, unknown, unknown], moved: ArrayBuffer[]) => void, close: () => Promise<void>): { subject: Subject; settle(reply: [number, unknown]): void } {
  const pending = new Map<number, (v: unknown) => void>();
  let nextId = 1;
  const send = (a: unknown, b: unknown, moved: ArrayBuffer[] = []): Promise<unknown> => new Promise((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    post([id, a, b], moved);
  });
  const subject: Subject = {
    name,
    sum: (a, b) => send(a, b) as Promise<number>,
    echo: (v) => send('echo', v),
    echoTransfer: (buf) => send('echo-moved', buf, [buf]),
    close,
  };
  const settle = (reply: [number, unknown]): void => {
    const resolve = pending.get(reply[0])!;
    pending.delete(reply[0]);
    resolve(reply[1]);
  };
  return { subject, settle };
}

export async function rawPostMessage(): Promise<Subject> {
  const worker = new Worker(new URL('./workers/raw-echo.js', import.meta.url));
  const { subject, settle } = requestReply('raw postMessage', (request, moved) => worker.postMessage(request, moved), async () => {
    await worker.terminate();
  });
  worker.on('message', settle);
  await new Promise((r) => worker.once('online', r));
  return subject;
}

/** A runtime over the given transport with the bench's Adder class registered. */
export async function startAdderRuntime(transport: 'port' | 'shared-memory'): Promise<Runtime> {
  const rt = await Runtime.start({ transport, logger: () => {} });
  rt.registerClass('Adder', { module: new URL('./fixtures/adder.js', import.meta.url), export: 'Adder' });
  return rt;
}

/**
 * The runtime's two worker links side by side: one runtime, an Adder in an apartment on ports and
 * one in an apartment on shared memory, so both can be measured in alternation. Closing either
 * subject closes the runtime.
 */
export async function runtimeBothLinks(): Promise<[Subject, Subject]> {
  const rt = await startAdderRuntime('shared-memory');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= rt.close());
  const subject = async (name: string, transport: 'port' | 'shared-memory'): Promise<Subject> => {
    const apt = await rt.createApartment({ name: `bench-${transport}`, transport });
    const adder = await apt.createObject<Adder>('Adder');
    return { name, sum: (a, b) => adder.sum(a, b), echo: (v) => adder.echo(v), echoTransfer: (buf) => adder.echoTransfer(transfer(buf, [buf])), close };
  };
  return [await subject('runtime (port channel)', 'port'), await subject('runtime (shared memory)', 'shared-memory')];
}

/** The shared-memory transport with no runtime above it: the floor the runtime's shared-memory link is measured against. */
export async function rawSharedRing(): Promise<Subject> {
  const { transport, handle } = SharedRingTransport.create();
  const awakeFlag = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('./workers/raw-ring-echo.js', import.meta.url), { workerData: { handle, awakeFlag }, transferList: [handle.port] });
  const { subject, settle } = requestReply('raw shared ring', (request, moved) => transport.send([request] as unknown as Batch, moved), async () => {
    transport.close();
    await worker.terminate();
    releaseAwakePlace(awakeFlag);
  });
  transport.listen((batch) => {
    for (const reply of batch as unknown as [number, unknown][]) settle(reply);
  }, () => {});
  await new Promise((r) => worker.once('online', r));
  return subject;
}

export async function comlink(): Promise<Subject> {
  const worker = new Worker(new URL('./workers/comlink-echo.js', import.meta.url));
  await new Promise((r) => worker.once('online', r));
  const remote = Comlink.wrap<{ sum(a: number, b: number): number; echo(v: unknown): unknown; echoMoved(buf: ArrayBuffer): ArrayBuffer }>(nodeEndpoint(worker));
  return {
    name: 'comlink',
    sum: (a, b) => remote.sum(a, b),
    echo: (v) => remote.echo(v) as Promise<unknown>,
    echoTransfer: (buf) => remote.echoMoved(Comlink.transfer(buf, [buf])) as Promise<unknown>,
    close: async () => {
      remote[Comlink.releaseProxy]();
      await worker.terminate();
    },
  };
}

export async function piscina(): Promise<Subject> {
  const pool = new Piscina({ filename: new URL('./workers/piscina-task.js', import.meta.url).href, minThreads: 1, maxThreads: 1 });
  await pool.run({ a: 0, b: 0 });
  return {
    name: 'piscina',
    sum: (a, b) => pool.run({ a, b }) as Promise<number>,
    echo: (v) => pool.run({ echo: v }),
    echoTransfer: (buf) => pool.run({ echoMoved: buf }, { transferList: [buf] }),
    close: () => pool.destroy(),
  };
}

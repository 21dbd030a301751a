// Stream and pipelining cases. Items through an async iterator (small numbers, and 64 KiB chunks
// copied or transferred) against one awaited callback per item and against raw postMessage of the
// same items, one message each and no flow control; and a call on a call's result, as two
// sequential calls against one pipeline() (pipeline-pair.ts). Each stream figure is the median of
// 5 runs (3 with --quick).
import { Worker } from 'node:worker_threads';
import { Runtime, type Remote } from '../../lib/index.js';
import type { BenchRow } from './call-path-bench.js';
import type { BenchFactory, StreamProducer } from './fixtures/stream-producer.js';
import { medianOf } from './harness.js';
import { factoryPair, pipelinePairRows } from './pipeline-pair.js';

const CHUNK = 64 * 1024;

async function start(transport: 'port' | 'shared-memory'): Promise<{ rt: Runtime; producer: Remote<StreamProducer>; factory: Remote<BenchFactory> }> {
  const rt = await Runtime.start({ transport, logger: () => {} });
  const module = new URL('./fixtures/stream-producer.js', import.meta.url);
  for (const name of ['StreamProducer', 'BenchFactory', 'BenchChild']) rt.registerClass(name, { module, export: name });
  const apt = await rt.createApartment({ name: 'bench-streams' });
  return { rt, producer: await apt.createObject<StreamProducer>('StreamProducer'), factory: await apt.createObject<BenchFactory>('BenchFactory') };
}

/** Seconds taken by `run`. */
async function seconds(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

async function drain(items: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of items) n++;
  return n;
}

/** Raw postMessage: seconds for `count` items of `bytes` (0: numbers) posted one by one. */
async function rawSeconds(worker: Worker, count: number, bytes: number): Promise<number> {
  return seconds(() => new Promise<void>((resolve) => {
    const onMessage = (m: unknown): void => {
      if (m === -1) {
        worker.off('message', onMessage);
        resolve();
      }
    };
    worker.on('message', onMessage);
    worker.postMessage([count, bytes]);
  }));
}

/** Run the stream and pipelining cases. */
export async function benchStreams(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const runs = options.quick ? 3 : 5;
  const small = options.quick ? 20_000 : 100_000;
  const chunks = options.quick ? 500 : 2_000;
  const smallCase = `stream ${small.toLocaleString('en-US')} small items (numbers)`;
  const chunkCase = `stream ${chunks.toLocaleString('en-US')} chunks of 64 KiB`;
  const rate = (c: string, subject: string, count: number, s: number): void => {
    rows.push({ case: `${c}, items/s`, subject, value: count / s, unit: 'items/s', better: 'higher' });
    rows.push({ case: `${c}, MB/s`, subject, value: (count * (c === smallCase ? 8 : CHUNK)) / 1e6 / s, unit: 'MB/s', better: 'higher' });
  };

  const worker = new Worker(new URL('./workers/raw-stream.js', import.meta.url));
  await new Promise((r) => worker.once('online', r));
  try {
    await rawSeconds(worker, small, 0);
    rate(smallCase, 'raw postMessage, one item per message', small, await medianOf(runs, () => rawSeconds(worker, small, 0)));
    rate(chunkCase, 'raw postMessage, one chunk per message (copied)', chunks, await medianOf(runs, () => rawSeconds(worker, chunks, CHUNK)));
  } finally {
    await worker.terminate();
  }

  for (const transport of ['port', 'shared-memory'] as const) {
    const { rt, producer, factory } = await start(transport);
    const link = transport === 'port' ? 'port channel' : 'shared memory';
    try {
      await drain(await producer.numbers(small));
      rate(smallCase, `runtime async iterator (${link})`, small, await medianOf(runs, async () => seconds(async () => drain(await producer.numbers(small)))));
      rate(smallCase, `runtime callback per item (${link})`, small, await medianOf(runs, () => seconds(() => producer.eachNumber(small, async () => undefined))));
      rate(chunkCase, `runtime async iterator, copied (${link})`, chunks, await medianOf(runs, async () => seconds(async () => drain(await producer.chunks(chunks, CHUNK, false)))));
      rate(chunkCase, `runtime async iterator, transferred (${link})`, chunks, await medianOf(runs, async () => seconds(async () => drain(await producer.chunks(chunks, CHUNK, true)))));
      rate(chunkCase, `runtime callback per chunk (${link})`, chunks, await medianOf(runs, () => seconds(() => producer.eachChunk(chunks, CHUNK, async () => undefined))));

      rows.push(...(await pipelinePairRows(factoryPair(factory), link, options.quick ? 2_000 : 10_000)));
    } finally {
      await rt.close();
    }
  }
  return rows;
}

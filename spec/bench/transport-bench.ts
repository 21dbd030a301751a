// Raw request/reply over two transports, side by side in one process run: MessagePort postMessage
// and the shared-memory ring (marshal/transports/shared-ring-transport.ts). Both echo servers are real
// workers started from this same file. Run directly (`node dist/spec/bench/transport-bench.js`)
// to print a table, or call benchTransports() from the suite.
import { isMainThread, MessageChannel, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { SharedRingTransport, type SharedRingHandle } from '../../marshal/transports/shared-ring-transport.js';
import { releaseAwakePlace, shareAwakeFlag } from '../../marshal/transports/thread-spinner.js';
import type { Batch } from '../../marshal/protocol.js';
import { median, pipelinedRate } from './harness.js';

/** One measured value of one transport in one case. */
export interface TransportBenchRow {
  case: string;
  transport: string;
  value: number;
  unit: string;
}

/** A request/reply client over one echo worker; one outstanding reply slot per request id. */
interface EchoClient {
  call(id: number): Promise<unknown>;
  stop(): Promise<void>;
}

type EchoRole = { role: 'port-echo'; port: MessagePort } | { role: 'ring-echo'; handle: SharedRingHandle; awakeFlag: SharedArrayBuffer };

// ---- worker side ----------------------------------------------------------------------------------

function serveEcho(data: EchoRole): void {
  if (data.role === 'port-echo') {
    const port = data.port;
    port.on('message', (m) => port.postMessage(m));
  } else {
    shareAwakeFlag(data.awakeFlag);
    const t = SharedRingTransport.attach(data.handle);
    t.listen((b) => t.send(b as Batch), () => process.exit(0));
  }
}

// ---- main side ------------------------------------------------------------------------------------

/** Replies carry the request id in message slot 1, as the protocol's Call/Result tuples do. */
class PendingReplies {
  private readonly waiting = new Map<number, (v: unknown) => void>();
  add(id: number): Promise<unknown> {
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
  settle(batch: unknown): void {
    for (const msg of batch as unknown[][]) {
      const id = msg[1] as number;
      const resolve = this.waiting.get(id);
      this.waiting.delete(id);
      resolve?.(msg);
    }
  }
}

const request = (id: number): Batch => [[1, id, 7, 'echo', [id], 0, 0]];
const self = fileURLToPath(import.meta.url);

async function portClient(): Promise<EchoClient> {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(self, { workerData: { role: 'port-echo', port: port2 }, transferList: [port2] });
  const pending = new PendingReplies();
  port1.on('message', (m) => pending.settle(m));
  return {
    call(id) {
      const p = pending.add(id);
      port1.postMessage(request(id));
      return p;
    },
    async stop() {
      port1.close();
      await worker.terminate();
    },
  };
}

async function ringClient(): Promise<EchoClient> {
  const { transport, handle } = SharedRingTransport.create();
  // As a worker apartment's host does: a thread terminated while spinning would otherwise keep its
  // place in the process's spin gate, and the next rounds' rings would never spin.
  const awakeFlag = new SharedArrayBuffer(4);
  const worker = new Worker(self, { workerData: { role: 'ring-echo', handle, awakeFlag }, transferList: [handle.port] });
  const pending = new PendingReplies();
  transport.listen((b) => pending.settle(b), () => {});
  return {
    call(id) {
      const p = pending.add(id);
      transport.send(request(id));
      return p;
    },
    async stop() {
      transport.close();
      await worker.terminate();
      releaseAwakePlace(awakeFlag);
    },
  };
}

/** Median microseconds of `count` round trips made one after another, each timed alone. */
async function sequentialMedianMicros(client: EchoClient, count: number): Promise<number> {
  let id = 0;
  for (let i = 0; i < 500; i++) await client.call(id++);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await client.call(id++);
    times.push((performance.now() - t0) * 1000);
  }
  return median(times);
}

/** Replies per second with `depth` requests in flight; median of three runs. */
async function pipelinedPerSecond(client: EchoClient, depth: number, total: number): Promise<number> {
  let id = 1_000_000;
  const call = (): Promise<unknown> => client.call(id++);
  await pipelinedRate(Math.min(total, 20_000), depth, call);
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push(await pipelinedRate(total, depth, call));
  return median(runs);
}

/** Sequential latency and pipelined throughput of raw postMessage and of the shared ring. */
export async function benchTransports(options: { quick?: boolean } = {}): Promise<TransportBenchRow[]> {
  const sequential = options.quick ? 2_000 : 10_000;
  const total = options.quick ? 50_000 : 200_000;
  const rows: TransportBenchRow[] = [];
  const subjects: [string, () => Promise<EchoClient>][] = [
    ['postMessage', portClient],
    ['shared ring', ringClient],
  ];
  for (const [name, make] of subjects) {
    const client = await make();
    try {
      rows.push({ case: 'sequential round trip (median)', transport: name, value: await sequentialMedianMicros(client, sequential), unit: 'µs' });
      for (const depth of [64, 1024]) {
        rows.push({ case: `pipelined, ${depth} in flight`, transport: name, value: await pipelinedPerSecond(client, depth, total), unit: 'msgs/s' });
      }
    } finally {
      await client.stop();
    }
  }
  return rows;
}

if (!isMainThread && (workerData as EchoRole | undefined)?.role) {
  serveEcho(workerData as EchoRole);
  parentPort?.unref();
} else if (isMainThread && process.argv[1] === self) {
  const rows = await benchTransports({ quick: process.argv.includes('--quick') });
  for (const r of rows) {
    const base = rows.find((x) => x.case === r.case)!;
    const ratio = r === base ? 'baseline' : `${(r.value / base.value).toFixed(3)}×`;
    console.log(`${r.case.padEnd(32)} ${r.transport.padEnd(12)} ${r.value.toFixed(r.unit === 'µs' ? 2 : 0).padStart(12)} ${r.unit.padEnd(7)} ${ratio}`);
  }
}

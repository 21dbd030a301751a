// Cluster cases (`npm run bench -- --cluster`; they need nats-server on PATH): a call into an
// apartment on another node, over NATS, beside a raw NATS round trip on the same server (the
// baseline: publish to an echo process, which publishes the message back to the bench's reply
// subject; the bench matches answers by its own call ids), nc.request() against the same echo, and
// a call into a process apartment of this node, and a call on an object node b's runtime published
// (references between runtimes: its main apartment forwards the call to the worker apartment the
// object lives in). Each is measured one call at a time and with 64 in
// flight, interleaved in the same runs. Targets: a remote call takes at most 1.2× the raw round
// trip one at a time, and pipelined does at least 2× the calls per second of nc.request(); the
// last case has nc.request() as its first row, so its ratios read against that target directly.
// Each call of benchCluster() starts its own nats-server, echo process and node 'b', makes this
// process node 'a' (a runtime of its own: run.ts runs the groups one after another and each closes
// the runtimes it starts, so none runs when this one starts) and ends all of them before it returns.
// Each figure is the median of 5 runs (3 with --quick). Last, the pipelining pair (pipeline-pair.ts)
// on the apartment on node 'b': two sequential calls against one pipeline(), alternating.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pipeline, release, Runtime, type Remote } from '../../lib/index.js';
import type { ProcessProbe } from '../fixtures/process-probe.js';
import type { BenchRow } from './call-path-bench.js';
import { startBenchNatsServer } from './fixtures/nats-bench-server.js';

export { requireNatsServer } from './fixtures/nats-bench-server.js';
import { median, pipelinedRate, sequentialMicros } from './harness.js';
import { pipelinePairRows } from './pipeline-pair.js';

/** A hang guard for starting and stopping the bench's processes, never a performance limit. */
const GUARD_MS = 30_000;
/** How long a raw or nc.request() round trip may take before the bench gives up on it. */
const CALL_TIMEOUT_MS = 10_000;
const DEPTH = 64;

interface ForkedChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Close its IPC channel (it exits on its own then), or kill it when it does not within the guard. */
  stop(): Promise<void>;
}

/** Fork `script` with `args` and wait for its { ready } message over IPC. */
async function forkReady(script: string, args: string[]): Promise<ForkedChild> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const killNow = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killNow);
  const stop = async (): Promise<void> => {
    process.off('exit', killNow);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    if (child.connected) child.disconnect();
    const guard = setTimeout(() => child.kill('SIGKILL'), GUARD_MS);
    await exited;
    clearTimeout(guard);
  };
  try {
    const ready = await new Promise<{ pid: number }>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`[bench-cluster] ${script} did not say it was ready within ${GUARD_MS} ms`)), GUARD_MS);
      child.once('exit', (code, signal) => {
        clearTimeout(guard);
        reject(new Error(`[bench-cluster] ${script} exited (${signal ?? `code ${code}`}) before it was ready`));
      });
      child.on('message', (msg: { ready?: boolean; pid?: number }) => {
        if (!msg?.ready) return;
        clearTimeout(guard);
        resolve({ pid: msg.pid! });
      });
    });
    child.removeAllListeners('exit');
    return { child, pid: ready.pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Raw round trips to the echo: publish with the bench's reply subject, answers matched by call id. */
function rawRoundTrip(nc: NatsConnection, echoSubject: string): (() => Promise<void>) {
  const inbox = `bench.reply.${randomBytes(6).toString('hex')}`;
  const pending = new Map<number, () => void>();
  let nextId = 1;
  nc.subscribe(inbox, {
    callback: (err, msg) => {
      if (err || msg.data.byteLength < 4) return;
      const id = new DataView(msg.data.buffer, msg.data.byteOffset, 4).getUint32(0);
      pending.get(id)?.();
      pending.delete(id);
    },
  });
  return () => new Promise<void>((resolve, reject) => {
    const id = nextId++ >>> 0;
    const payload = new Uint8Array(8);
    new DataView(payload.buffer).setUint32(0, id);
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`[bench-cluster] raw round trip ${id} got no echo within ${CALL_TIMEOUT_MS} ms`));
    }, CALL_TIMEOUT_MS);
    pending.set(id, () => {
      clearTimeout(timer);
      resolve();
    });
    nc.publish(echoSubject, payload, { reply: inbox });
  });
}

/** Ask the cluster node `child` (spec/fixtures/cluster-node.ts) to do `request`, and answer what it says. */
function askNode<T>(child: ChildProcess, request: { id: number; op: string; key?: string }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`[bench-cluster] node 'b' did not answer '${request.op}' within ${GUARD_MS} ms`)), GUARD_MS);
    const answered = (m: { id?: number; answer?: T; error?: string }): void => {
      if (m?.id !== request.id) return;
      clearTimeout(guard);
      child.off('message', answered);
      if (m.error !== undefined) reject(new Error(`[bench-cluster] node 'b' failed '${request.op}': ${m.error}`));
      else resolve(m.answer as T);
    };
    child.on('message', answered);
    child.send(request);
  });
}

/** What one run compares: a name and one call, awaited. */
interface Subject {
  readonly name: string;
  call(): Promise<unknown>;
}

/** Run the cluster cases: one nats-server, echo process and node 'b' for this call, ended before it returns. */
export async function benchCluster(options: { quick: boolean }): Promise<BenchRow[]> {
  const runs = options.quick ? 3 : 5;
  const seq = options.quick ? 2_000 : 5_000;
  const pipe = options.quick ? 20_000 : 60_000;
  const echoSubject = `bench.echo.${randomBytes(6).toString('hex')}`;
  const server = await startBenchNatsServer();
  let echo: ForkedChild | undefined;
  let nodeB: ForkedChild | undefined;
  let rt: Runtime | undefined;
  let nc: NatsConnection | undefined;
  try {
    echo = await forkReady('./fixtures/nats-echo.js', [server.url, echoSubject]);
    nodeB = await forkReady('../fixtures/cluster-node.js', [JSON.stringify({ node: { name: 'b', nats: server.url } })]);
    rt = await Runtime.start({
      node: { name: 'a', nats: server.url },
      logger: (entry) => {
        if (entry.level === 'warn' || entry.level === 'error') process.stderr.write(`bench (node a): ${entry.message}\n`);
      },
    });
    rt.registerClass('ProcessProbe', { module: new URL('../fixtures/process-probe.js', import.meta.url), export: 'ProcessProbe' });
    nc = await connect({ servers: server.url, name: 'bench raw' });
    const conn = nc;

    const remote = await (await rt.createApartment({ node: 'b' })).createObject<ProcessProbe>('ProcessProbe') as Remote<ProcessProbe>;
    const local = await (await rt.createApartment({ process: 'bench' })).createObject<ProcessProbe>('ProcessProbe') as Remote<ProcessProbe>;
    // Node b's runtime publishes a ProcessProbe of one of its worker apartments; this runtime opens it.
    const published = await askNode<number>(nodeB.child, { id: 1, op: 'ref-publish', key: 'bench-probe' });
    const reference = await rt.node!.open<ProcessProbe>('bench-probe');
    if ((await reference.pid()) !== published) throw new Error(`[bench-cluster] the object node 'b' published answers from another process`);
    const remotePid = await remote.pid();
    const localPid = await local.pid();
    if (remotePid !== nodeB.pid) throw new Error(`[bench-cluster] the apartment on node 'b' answers from pid ${remotePid}, not node b's ${nodeB.pid}`);
    if (localPid === process.pid || localPid === nodeB.pid) throw new Error(`[bench-cluster] the process apartment answers from pid ${localPid}, which is not a process of its own`);

    const subjects: Subject[] = [
      { name: 'raw NATS round trip (publish, echo to a reply subject)', call: rawRoundTrip(conn, echoSubject) },
      { name: 'nc.request() to the same echo', call: () => conn.request(echoSubject, new Uint8Array(8), { timeout: CALL_TIMEOUT_MS }) },
      { name: "remote call: ProcessProbe.pid() in an apartment on node 'b'", call: () => remote.pid() },
      { name: 'process apartment call: ProcessProbe.pid()', call: () => local.pid() },
      { name: "reference call: ProcessProbe.pid() that node 'b''s runtime published from a worker apartment", call: () => reference.pid() },
    ];
    // Warm up every path (JIT on both ends, the server's subscriptions) before anything is timed.
    for (const s of subjects) await pipelinedRate(4_000, DEPTH, () => s.call());

    const sequential = subjects.map((): number[] => []);
    const pipelined = subjects.map((): number[] => []);
    for (let run = 0; run < runs; run++) {
      for (const [i, s] of subjects.entries()) sequential[i]!.push(await sequentialMicros(seq, () => s.call()));
      for (const [i, s] of subjects.entries()) pipelined[i]!.push(await pipelinedRate(pipe, DEPTH, () => s.call()));
    }

    const rows: BenchRow[] = [];
    for (const [i, s] of subjects.entries()) {
      rows.push({ case: 'cluster: sequential small call', subject: s.name, value: median(sequential[i]!), unit: 'µs/call', better: 'lower' });
    }
    for (const [i, s] of subjects.entries()) {
      rows.push({ case: `cluster: pipelined small calls, ${DEPTH} in flight`, subject: s.name, value: median(pipelined[i]!), unit: 'calls/s', better: 'higher' });
    }
    // The same pipelined figures against nc.request(), the pipelined target's yardstick.
    for (const [i, s] of subjects.entries()) {
      if (i === 0) continue;
      rows.push({ case: `cluster: pipelined small calls, ${DEPTH} in flight, to nc.request()`, subject: s.name, value: median(pipelined[i]!), unit: 'calls/s', better: 'higher' });
    }
    // A call on a call's result, over the slowest link there is: makeCounter() then increment() on
    // the counter it returns, awaited one after the other against one pipeline() (issue: ≤ 0.6×).
    rows.push(...(await pipelinePairRows({
      async twoCalls() {
        const counter = await remote.makeCounter();
        await counter.increment();
        release(counter);
      },
      async pipelined() {
        const counter = pipeline(remote).makeCounter();
        await counter.increment();
        release(await counter);
      },
    }, "NATS, an apartment on node 'b'", options.quick ? 400 : 1_000)));
    return rows;
  } finally {
    // Node 'a' leaves while the server is still up (its apartments end first), then node 'b', the echo, the server.
    await rt?.close();
    await nc?.close().catch(() => undefined);
    await nodeB?.stop();
    await echo?.stop();
    await server.kill();
  }
}

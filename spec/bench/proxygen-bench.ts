// Generated stubs: dispatch by index (typed proxy, arguments checked) against the dynamic proxy path
// (by name, no checks); and the cost of the generated checks on a typical LSP request, against the
// same call through a stub table that does not check. Same apartment, same transport, one process.
import type { CompletionParams, DidChangeTextDocumentParams } from 'vscode-languageserver-protocol';
import { Runtime } from '../../lib/index.js';
import { bindCalcApi } from '../fixtures/proxygen/generated/calc-api.remote.js';
import type { BenchRow } from './call-path-bench.js';
import type { Adder } from './fixtures/adder.js';
import { LanguageServerApiStub, bindLanguageServerApi } from '../fixtures/proxygen/generated/lsp-api.remote.js';
import { UncheckedServer } from '../fixtures/proxygen/lsp-server.js';
import { median, pipelinedRate, sequentialMicros } from './harness.js';

/** A completion request as an editor sends it: where, in which document, and how it was triggered. */
const completion: CompletionParams = {
  textDocument: { uri: 'file:///projects/app/src/main.ts' },
  position: { line: 41, character: 17 },
  context: { triggerKind: 2, triggerCharacter: '.' },
  workDoneToken: 'w-1',
};

/** A keystroke: one ranged change in a versioned document. */
const didChange: DidChangeTextDocumentParams = {
  textDocument: { uri: 'file:///projects/app/src/main.ts', version: 12 },
  contentChanges: [{ range: { start: { line: 41, character: 16 }, end: { line: 41, character: 16 } }, text: 'x' }],
};

/** Run `measures` in turns (A, B, A, B…) so both see the same machine load; the median of each. */
async function alternating(runs: number, measures: (() => Promise<number>)[]): Promise<number[]> {
  const results: number[][] = measures.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, m] of measures.entries()) results[j]!.push(await m());
  }
  return results.map(median);
}

/** Nanoseconds per call of `fn`, in this thread (after a warm-up of as many calls). */
function nanosPerCall(count: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < count; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) fn();
  return Promise.resolve(((performance.now() - t0) * 1e6) / count);
}

/** Run the generated-stub cases. */
export async function benchGeneratedStubs(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const runs = options.quick ? 3 : 7;
  const n = options.quick ? 2_000 : 5_000;
  const rt = await Runtime.start({ logger: () => {} });
  try {
    rt.registerClass('Adder', { module: new URL('./fixtures/adder.js', import.meta.url), export: 'Adder' });
    rt.registerClass('CalcImpl', { module: new URL('../fixtures/proxygen/calc-impl.js', import.meta.url), export: 'CalcImpl' });
    rt.registerClass('CheckedServer', { module: new URL('../fixtures/proxygen/lsp-server.js', import.meta.url), export: 'CheckedServer' });
    rt.registerClass('UncheckedServer', { module: new URL('../fixtures/proxygen/lsp-server.js', import.meta.url), export: 'UncheckedServer' });
    const apt = await rt.createApartment();
    const dynamic = await apt.createObject<Adder>('Adder');
    const generated = await bindCalcApi(await apt.createObject('CalcImpl'));
    for (const [subject, call] of [['dynamic proxy (by name)', () => dynamic.sum(1, 2)], ['generated proxy (by index, checked)', () => generated.add(1, 2)]] as const) {
      for (let i = 0; i < 8_000; i++) await call();
      rows.push({ case: 'generated stubs vs dynamic: sequential', subject, value: median([await sequentialMicros(n, call), await sequentialMicros(n, call), await sequentialMicros(n, call)]), unit: 'µs/call', better: 'lower' });
      rows.push({ case: 'generated stubs vs dynamic: 256 in flight', subject, value: median([await pipelinedRate(n * 20, 256, call), await pipelinedRate(n * 20, 256, call), await pipelinedRate(n * 20, 256, call)]), unit: 'calls/s', better: 'higher' });
    }

    // The LSP case: the same server code, the same proxy and dispatch by index; only the check differs.
    const unchecked = await bindLanguageServerApi(await apt.createObject('UncheckedServer'));
    const checked = await bindLanguageServerApi(await apt.createObject('CheckedServer'));
    const subjects = ['unchecked stub (same call, no check)', 'generated stub (arguments checked)'];
    for (const s of [unchecked, checked]) for (let i = 0; i < 8_000; i++) await s.completion(completion);
    const seq = await alternating(runs, [() => sequentialMicros(n, () => unchecked.completion(completion)), () => sequentialMicros(n, () => checked.completion(completion))]);
    seq.forEach((value, i) => rows.push({ case: 'generated check, LSP completion request: sequential', subject: subjects[i]!, value, unit: 'µs/call', better: 'lower' }));
    const piped = await alternating(runs, [() => pipelinedRate(n * 20, 256, () => unchecked.completion(completion)), () => pipelinedRate(n * 20, 256, () => checked.completion(completion))]);
    piped.forEach((value, i) => rows.push({ case: 'generated check, LSP completion request: 256 in flight', subject: subjects[i]!, value, unit: 'calls/s', better: 'higher' }));
    const change = await alternating(runs, [() => sequentialMicros(n, () => unchecked.didChange(didChange)), () => sequentialMicros(n, () => checked.didChange(didChange))]);
    change.forEach((value, i) => rows.push({ case: 'generated check, LSP didChange notification: sequential', subject: subjects[i]!, value, unit: 'µs/call', better: 'lower' }));

    // The check on its own, in this thread: the stub invoker with and without it, on a server that returns at once.
    const target = new UncheckedServer();
    const count = options.quick ? 200_000 : 1_000_000;
    const inProcess = await alternating(runs, [
      () => nanosPerCall(count, () => UncheckedServer.remoteInterface.stub[2](target, [didChange])),
      () => nanosPerCall(count, () => LanguageServerApiStub[2]!(target, [didChange])),
    ]);
    inProcess.forEach((value, i) => rows.push({ case: 'generated check alone, LSP didChange, in process', subject: ['stub invoker without the check', 'stub invoker with the check'][i]!, value, unit: 'ns/call', better: 'lower' }));
  } finally {
    await rt.close();
  }
  return rows;
}

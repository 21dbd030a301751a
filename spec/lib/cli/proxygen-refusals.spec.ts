import { expect } from 'chai';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, runCli } from './cli-harness.js';

describe('lib/cli: apartment-proxygen refuses only what cannot cross, with file:line:col and a member path', function () {
  this.timeout(10 * 60_000);

  it('names each construct, where it is and what to do, exits 2 and writes nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'proxygen-')), 'generated');
    const run = runCli([`${fixtures}bad-api.ts`, '--out', out]);
    expect(run.status).to.equal(2);
    const lines = run.stderr.trim().split('\n');
    const expected = [
      ':12:9: BadApi.start.options.links[0].context.ready: a Promise cannot cross apartments; await it first',
      ':13:9: BadApi.keyed.key: a symbol cannot cross apartments; pass a string',
      ':14:9: BadApi.later.value: a Promise cannot cross apartments',
      ':15:8: BadApi.weak.cache: a WeakMap cannot cross apartments',
      ':16:3: BadApi.[secret]: a member keyed by a unique symbol cannot be named in another apartment',
      ':17:3: BadApi.then: a member named \'then\' cannot be generated (a proxy with it would look like a promise)',
      ':21:1: BadShapes: the proxy would have two members named get_size (for get_size and size)',
      ':22:3: BadShapes: a construct signature cannot be called across apartments; expose a factory method',
      ':28:1: Hidden is not exported from its module (the generated file imports its type); export it',
      ':33:1: type NotAnObject is not an object type',
      ':36:1: interface BadId: @remote takes an optional interface id',
    ];
    expect(lines, run.stderr).to.have.length(expected.length);
    expected.forEach((text, i) => expect(lines[i]).to.contain(`bad-api.ts${text}`));
  });
});

describe('lib/cli: apartment-proxygen refuses an input whose types it cannot resolve', function () {
  this.timeout(10 * 60_000);

  it('names the unresolved import and the misspelt type, exits 2 and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxygen-'));
    const input = join(dir, 'shop.ts');
    writeFileSync(input, "import type { Order } from './types';\n/** @remote */\nexport interface Shop {\n  place(order: Order): Promise<void>;\n  sub(a: numbr): Promise<number>;\n}\n");
    const out = join(dir, 'generated');
    const run = runCli([input, '--out', out]);
    // Before: exit 0, place(order: any) and sub(a: any), the stub checking only how many arguments came.
    expect(run.status, run.stderr).to.equal(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).to.contain("shop.ts:1:28: Cannot find module './types'").and.contain('relative imports name their .js file');
    expect(lines[1]).to.contain("shop.ts:5:10: Cannot find name 'numbr'");
    expect(existsSync(out), 'nothing written').to.equal(false);
  });
});

describe('lib/cli: apartment-proxygen refuses what is accepted by type but never arrives intact', function () {
  this.timeout(10 * 60_000);

  it('refuses an AbortSignal and a Node stream, saying what to declare instead', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxygen-'));
    const input = join(dir, 'jobs.ts');
    writeFileSync(input, "import type { Readable } from 'node:stream';\n/** @remote */\nexport interface Jobs {\n  run(name: string, signal: AbortSignal): Promise<void>;\n  feed(input: Readable): Promise<void>;\n}\n");
    const run = runCli([input, '--out', join(dir, 'generated')]);
    // Before: generated, and every real call failed (args[1].signal.aborted: expected boolean, got undefined).
    expect(run.status, run.stderr).to.equal(2);
    expect(run.stderr).to.contain('Jobs.run.signal: an AbortSignal cannot cross apartments; cancel a call by giving it callOptions({ signal })');
    expect(run.stderr).to.contain('Jobs.feed.input: a Node stream cannot cross apartments; declare an AsyncIterable<T>');
  });
});

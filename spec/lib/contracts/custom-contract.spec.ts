import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The output block docs/contracts/custom.md shows for the demo (the first unlabelled fence after it says "run the demo"). */
function documentedOutput(): string {
  const page = readFileSync(fileURLToPath(new URL('../../../../docs/contracts/custom.md', import.meta.url)), 'utf8');
  const after = page.slice(page.indexOf('run the demo'));
  const block = /\n```\n([^]*?)\n```\n/.exec(after);
  if (!block) throw new Error('docs/contracts/custom.md shows no output block after "run the demo"');
  return `${block[1]}\n`;
}

describe('lib/contracts: a custom contract end to end (docs/demos/custom-contract)', () => {
  it('keeps a pinned class in its named apartment whoever creates it, and admits the host\'s calls only', () => {
    const demo = fileURLToPath(new URL('../../../docs/demos/custom-contract/main.js', import.meta.url));
    const run = spawnSync(process.execPath, [demo], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status, run.stderr).to.equal(0);
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 2)).to.deep.equal([
      "created by the host thread, the UiModel lives in apartment 'ui'",
      "created by a helper in 'background', the UiModel lives in apartment 'ui'",
    ]);
    expect(lines[2]).to.match(/^the helper's own call to it was refused: ContractViolationError \(RPC_E_WRONG_THREAD\) \[contract-refused\] contract 'pinned-ui' refused call 'where' from apartment 'background' \(\d+\) to UiModel in apartment 'ui' \(\d+\): a UiModel takes calls from the host thread only; hand it to the host and let the host call it$/);
    expect(lines.slice(3)).to.deep.equal(['']);
  });

  it('prints exactly the output docs/contracts/custom.md shows', () => {
    const demo = fileURLToPath(new URL('../../../docs/demos/custom-contract/main.js', import.meta.url));
    const run = spawnSync(process.execPath, [demo], { encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.equal(documentedOutput());
  });
});

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

describe('lib/contracts: a custom contract end to end (docs/demos/custom-contract)', () => {
  it('keeps a pinned class in its named apartment whoever creates it', () => {
    const demo = fileURLToPath(new URL('../../../docs/demos/custom-contract/main.js', import.meta.url));
    const run = spawnSync(process.execPath, [demo], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.equal(
      "created by the host thread, the UiModel lives in apartment 'ui'\n"
      + "created by a helper in 'background', the UiModel lives in apartment 'ui'\n",
    );
  });
});

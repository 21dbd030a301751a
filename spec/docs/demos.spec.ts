import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Run a compiled demo as a user would, and return what it printed. */
function runDemo(path: string): string {
  const file = fileURLToPath(new URL(`../../docs/demos/${path}`, import.meta.url));
  const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
  expect(run.status, run.stderr).to.equal(0);
  return run.stdout;
}

describe('docs/demos: the plugin host (npm run demo)', () => {
  it('shows two plugin apartments, a callback to the host, an error crossing and a release', () => {
    const out = runDemo('plugin-host/main.js');
    expect(out).to.match(/apartment 'plugin-words' created/).and.match(/apartment 'plugin-spelling' created/);
    expect(out).to.match(/callback on the host thread: .*counted 7 words/);
    expect(out).to.match(/an error crossed from the plugin: EmptyDocumentError: nothing to check/);
    expect(out).to.contain("a call with a bad argument is refused at the plugin's boundary: InvalidArgumentError (parameter 'text')");
    expect(out).to.match(/now exports 0 object\(s\)/);
    expect(out).to.match(/calling the released proxy fails: DisconnectedError \(CO_E_OBJNOTCONNECTED\)/);
    expect(out).to.match(/runtime closed\n$/);
  });
});

describe('docs/demos: the teaching demos run and show their lesson', () => {
  it('free-threading: the shared count is exact, the ordinary field diverged', () => {
    const out = runDemo('free-threading/main.js');
    expect(out).to.contain('40 calls through one handle, two at a time, ran on 2 pool threads\n');
    expect(out).to.contain('the shared (Atomics) count is 40\n');
    // Each round's two calls ran on the two threads, so each view counted exactly half.
    expect(out.match(/^thread \d+'s view counted 20 calls in its ordinary field$/gm)).to.have.length(2);
    expect(out).to.contain('the ordinary field diverged: no view saw all 40 calls');
  });

  it('lost-decrement: the plain count lost 3 of every 4 releases, the atomic count ends at exactly 0', () => {
    const out = runDemo('lost-decrement/main.js');
    expect(out).to.contain('non-atomic count: started at 20000, released 20000 times, ended at 15000 (15000 releases lost)\n');
    expect(out).to.match(/atomic count: +started at 20000, released 20000 times, ended at 0\n/);
  });
});

describe('docs/demos: the script engine (npm run demo, second part)', () => {
  it('shows the contract switching from free to apartment on init, a script using host objects, and an interrupt', () => {
    const out = runDemo('script-engine/main.js');
    expect(out).to.contain("free-threaded: the editor apartment's call is allowed");
    expect(out).to.contain("the contract is now apartment: the editor's call is refused with WrongThreadError (E_UNEXPECTED)");
    expect(out).to.contain("an unknown state sent past the typed proxy is refused at the engine's boundary: InvalidArgumentError (parameter 'next')");
    expect(out).to.contain('ada has 3, then 7');
    expect(out).to.match(/a script climbing from the scoreboard to the host's Function is refused: /);
    expect(out).to.match(/a script bug comes back as ScriptError at line 5, column \d+: \[script-threw\] RangeError/);
    expect(out).to.contain('a runaway script was interrupted from the editor apartment: [interrupted]');
    expect(out).to.contain('rounds played so far = 3, grace scores 5');
  });
});

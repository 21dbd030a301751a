import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const protectorModule = new URL('../../marshal/detach-protector.js', import.meta.url).href;

/**
 * In a fresh Node process with V8's natives syntax: optimise a function that reads a typed array,
 * detach an ArrayBuffer for the first time, and report whether the function is still optimised.
 * `loadRuntime` imports the module under test first, as every thread of the runtime does.
 */
async function optimisedAfterFirstDetach(loadRuntime: boolean): Promise<{ before: boolean; after: boolean }> {
  const script = `
    ${loadRuntime ? `await import(${JSON.stringify(protectorModule)});` : ''}
    function readBytes(u8) { return u8[0] + u8[1]; }
    const u8 = new Uint8Array(8);
    %PrepareFunctionForOptimization(readBytes);
    readBytes(u8);
    readBytes(u8);
    %OptimizeFunctionOnNextCall(readBytes);
    readBytes(u8);
    const OPTIMIZED = 16;
    const before = (%GetOptimizationStatus(readBytes) & OPTIMIZED) !== 0;
    const moved = new ArrayBuffer(16);
    structuredClone(moved, { transfer: [moved] });
    const after = (%GetOptimizationStatus(readBytes) & OPTIMIZED) !== 0;
    process.stdout.write(JSON.stringify({ before, after }));
  `;
  const { stdout } = await run(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script]);
  return JSON.parse(stdout) as { before: boolean; after: boolean };
}

describe('marshal/detach-protector: a thread that loaded the runtime keeps its optimised typed-array code through its first transfer', () => {
  it('without it, the first detach of an ArrayBuffer throws that code away (what the module exists for)', async () => {
    expect(await optimisedAfterFirstDetach(false)).to.deep.equal({ before: true, after: false });
  });

  it('with it loaded, the code stays optimised', async () => {
    expect(await optimisedAfterFirstDetach(true)).to.deep.equal({ before: true, after: true });
  });
});

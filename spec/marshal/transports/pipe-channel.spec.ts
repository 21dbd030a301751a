import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { expect } from 'chai';
import { CHANNEL_FD, PipeChannel } from '../../../marshal/transports/pipe-channel.js';
import { isRunning, until } from '../../fixtures/process-fixture.js';

let child: ChildProcess | undefined;

afterEach(() => {
  if (child?.pid !== undefined && isRunning(child.pid)) child.kill('SIGKILL');
  child = undefined;
});

// A child that writes two whole frames and the start of a third in one write, then the rest of the
// third: frames that share a chunk of the host's socket.
const WRITER = `
const { serialize } = require('node:v8');
const { writeSync } = require('node:fs');
const frame = (v) => { const body = serialize(v); const head = Buffer.alloc(4); head.writeUInt32BE(body.length); return Buffer.concat([head, body]); };
const [a, b, c] = [frame([1, new Uint8Array([1, 2, 3])]), frame([2, new Uint8Array([4, 5, 6])]), frame([3, 'third'])];
writeSync(${CHANNEL_FD}, Buffer.concat([a, b, c.subarray(0, 6)]));
setTimeout(() => writeSync(${CHANNEL_FD}, c.subarray(6)), 50);
setTimeout(() => {}, 2000);
`;

describe('marshal/transports/pipe-channel: frames that share a chunk of the socket', () => {
  it('arrive whole and in order, and binary data in one owns its memory: moving it leaves the others and the unread rest alone', async () => {
    child = spawn(process.execPath, ['-e', WRITER], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
    const channel = new PipeChannel(child.stdio[CHANNEL_FD] as Socket, 'the writer');
    const got: [number, unknown][] = [];
    const faults: Error[] = [];
    channel.on('message', (m) => got.push(m as [number, unknown]));
    channel.on('fault', (e) => faults.push(e));
    await until('the first two frames arrive', () => got.length >= 2);
    const first = got[0]![1] as Uint8Array;
    // Host code hands the first array's memory on (transfer() to a worker, say).
    structuredClone(first.buffer, { transfer: [first.buffer as ArrayBuffer] });
    expect([...(got[1]![1] as Uint8Array)], 'the second frame\'s array is intact').to.deep.equal([4, 5, 6]);
    await until('the third frame arrives', () => got.length === 3);
    expect(got[2]).to.deep.equal([3, 'third']);
    expect(faults).to.deep.equal([]);
    expect(channel.connected).to.equal(true);
  });
});

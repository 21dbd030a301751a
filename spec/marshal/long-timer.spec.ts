import { expect } from 'chai';
import { setLongTimeout, settlesWithin } from '../../marshal/long-timer.js';

// Timers fire in the order they are due: a wait of 20 ms outlasts any timer Node cut to 1 ms.
const outlastOneMs = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('marshal/long-timer: a wait longer than a Node timer keeps', () => {
  it('does not fire for Infinity or 3e9 ms, where a Node timer of that length fires after 1 ms', async () => {
    const fired: string[] = [];
    const timers = [setLongTimeout(() => fired.push('Infinity'), Infinity), setLongTimeout(() => fired.push('3e9'), 3e9, true)];
    await outlastOneMs();
    expect(fired).to.deep.equal([]);
    for (const t of timers) t.clear();
  });

  it('fires once its time has passed, and not once cleared', async () => {
    const fired: string[] = [];
    setLongTimeout(() => fired.push('due'), 5);
    setLongTimeout(() => fired.push('cleared'), 5).clear();
    await outlastOneMs();
    expect(fired).to.deep.equal(['due']);
  });
});

describe('marshal/long-timer: settlesWithin, a promise nobody controls against the clock', () => {
  it('says true for a promise that settles either way in time, and takes its rejection as handled', async () => {
    const failed = Promise.reject(new Error('late failure'));
    expect(await settlesWithin(Promise.resolve(1), 60_000)).to.equal(true);
    expect(await settlesWithin(failed, 60_000)).to.equal(true);
    expect(await settlesWithin(Promise.resolve(1), Infinity)).to.equal(true);
    // The caller still reads the outcome from the promise itself.
    const outcome = await failed.then(() => 'resolved', (err: Error) => err.message);
    expect(outcome).to.equal('late failure');
  });

  it('says false once the time passed first, and leaves nothing pending once the promise settles', async () => {
    let settle!: () => void;
    const never = new Promise<void>((r) => (settle = r));
    expect(await settlesWithin(never, 5)).to.equal(false);
    // A settled race clears its timer: with the timer left, this wait would keep an active handle.
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const quick = settlesWithin(Promise.resolve(), 3e9);
    expect(await quick).to.equal(true);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).to.equal(before);
    settle();
  });
});

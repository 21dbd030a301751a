import { expect } from 'chai';
import { setLongTimeout } from '../../marshal/long-timer.js';

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

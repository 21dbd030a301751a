import { expect } from 'chai';
import { queuedWait } from '../../lib/queued-wait.js';
import { CallCanceledError, CallTimeoutError } from '../../marshal/errors.js';

// Timers fire in the order they are due: a wait of 20 ms outlasts any timer Node cut to 1 ms.
const outlastOneMs = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('lib/queued-wait: a queued wait with a time limit of Infinity', () => {
  it('stays queued until settled (a rental lease or a named wait given Infinity left after 1 ms)', async () => {
    const queue: { resolve(v: string): void }[] = [];
    const waiting = queuedWait(() => queue, (resolve: (v: string) => void) => ({ resolve }), {
      signal: undefined,
      canceled: () => new CallCanceledError('[spec] canceled'),
      timeoutMs: Infinity,
      timedOut: () => new CallTimeoutError('[spec] timed out'),
    });
    await outlastOneMs();
    expect(queue, 'still waiting').to.have.length(1);
    queue[0]!.resolve('granted');
    expect(await waiting).to.equal('granted');
  });
});

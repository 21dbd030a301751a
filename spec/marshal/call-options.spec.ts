import { expect } from 'chai';
import { callOptions, CallOptions, checkRetryPolicy } from '../../marshal/call-options.js';
import { DeadlineTimer } from '../../marshal/call-timeout.js';
import { MAX_TIMER_MS } from '../../marshal/long-timer.js';
import { InvalidArgumentError } from '../../marshal/errors.js';

describe('marshal/call-options: what callOptions() takes', () => {
  it('refuses each bad option with InvalidArgumentError naming it, where it is given', () => {
    const bad: [unknown, string, RegExp][] = [
      [{ timeoutMs: NaN }, 'timeoutMs', /^\[timeout\]/],
      [{ timeoutMs: 0 }, 'timeoutMs', /^\[timeout\]/],
      [{ timeoutMs: -1 }, 'timeoutMs', /^\[timeout\]/],
      [{ timeoutMs: '100' }, 'timeoutMs', /^\[timeout\]/],
      // Before: a TypeError failed the call, its entry stayed in the channel, and closing the channel crashed the process.
      [{ signal: {} }, 'signal', /^\[call-options\]/],
      [{ signal: new AbortController() }, 'signal', /^\[call-options\]/],
      [{ retry: 3 }, 'retry', /^\[retry\]/],
      [{ retry: { attempts: -1 } }, 'retry', /^\[retry\]/],
      [{ retry: { attempts: 1.5 } }, 'retry', /^\[retry\]/],
      [{ retry: { attempts: 1, delayMs: -5 } }, 'retry', /^\[retry\]/],
      [{ retry: { attempts: 1, delayMs: MAX_TIMER_MS + 1 } }, 'retry', /^\[retry\]/],
      [null, 'options', /^\[call-options\]/],
    ];
    for (const [init, parameter, tag] of bad) {
      let err: unknown;
      try {
        callOptions(init as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(init)).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter, JSON.stringify(init)).to.equal(parameter);
      expect((err as Error).message, JSON.stringify(init)).to.match(tag);
    }
  });

  it('takes a positive deadline (Infinity for none), an AbortSignal and a retry policy, and keeps them as checked', () => {
    const signal = new AbortController().signal;
    const retry = { attempts: 2, delayMs: 10 };
    const options = callOptions({ timeoutMs: Infinity, signal, retry });
    expect(options).to.be.instanceOf(CallOptions);
    expect(options.timeoutMs).to.equal(Infinity);
    expect(options.signal).to.equal(signal);
    expect(options.retry).to.deep.equal({ attempts: 2, delayMs: 10 });
    retry.attempts = -1;
    expect(options.retry, 'a copy of the policy: changing the original changes nothing').to.deep.equal({ attempts: 2, delayMs: 10 });
    expect(Object.isFrozen(options), 'options cannot be changed after the check').to.equal(true);
    expect(callOptions({ timeoutMs: 5 }).timeoutMs).to.equal(5);
    expect(checkRetryPolicy(undefined, 'retry')).to.equal(undefined);
  });
});

describe('marshal/call-timeout: a deadline beyond a Node timer\'s reach', () => {
  it('does not fire early: Node fires a timer past 2^31 - 1 ms after 1 ms', async () => {
    let fired = 0;
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    const timer = new DeadlineTimer(() => fired++);
    try {
      timer.arm(performance.now() + 3e9);
      // Timers fire in the order they are due: a 1 ms timer would have fired before this one.
      await new Promise((r) => setTimeout(r, 20));
      expect(fired).to.equal(0);
      expect(warnings).to.not.include('TimeoutOverflowWarning');
    } finally {
      timer.clear();
      process.off('warning', onWarning);
    }
  });
});

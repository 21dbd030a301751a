import { expect } from 'chai';
import { callOptions, CallOptions, checkRetryPolicy } from '../../marshal/call-options.js';
import { DeadlineTimer } from '../../marshal/call-timeout.js';
import { MAX_TIMER_MS } from '../../marshal/long-timer.js';
import { monotonicMs } from '../../marshal/monotonic-clock.js';
import { CallCanceledError, InvalidArgumentError } from '../../marshal/errors.js';
import type { Calc } from '../fixtures/calc.js';
import { PolyfillAbortController } from '../fixtures/polyfill-signal.js';
import { startRuntime } from '../fixtures/runtime-fixture.js';

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
      // Before: a misspelt key was ignored, and the call had the default deadline.
      [{ timeOutMs: 100 }, 'options.timeOutMs', /^\[unknown-option\] callOptions\(\) has no option 'timeOutMs'\. Did you mean 'timeoutMs'\?/],
      [{ signal: undefined, abortSignal: new AbortController().signal }, 'options.abortSignal', /^\[unknown-option\] callOptions\(\) has no option 'abortSignal'\. Its options are: timeoutMs, signal, retry;/],
      [{ retry: { attempts: 1, delay: 5 } }, 'retry.delay', /^\[unknown-option\] the retry policy \(retry\) has no option 'delay'/],
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

describe('marshal/call-options: a signal that is no AbortSignal of this realm', () => {
  it('follows a polyfill\'s signal as Node does: aborting it cancels the call in the worker with its reason', async () => {
    const { rt } = await startRuntime();
    const calc = await (await rt.createApartment()).createObject<Calc>('Calc');
    const controller = new PolyfillAbortController();
    // Before: refused with [call-options] signal must be an AbortSignal.
    const pending = calc.slowAdd(1, 1_000, callOptions({ signal: controller.signal as unknown as AbortSignal })).catch((e: unknown) => e);
    controller.abort('stop');
    const err = await pending;
    expect(err).to.be.instanceOf(CallCanceledError);
    expect((err as Error).cause).to.equal('stop');
    const already = new PolyfillAbortController();
    already.abort('before');
    const refused = await calc.add(1, callOptions({ signal: already.signal as unknown as AbortSignal })).catch((e: unknown) => e);
    expect(refused, 'one aborted before the call is never sent').to.be.instanceOf(CallCanceledError);
    expect((refused as Error).cause).to.equal('before');
    expect((await calc.where(callOptions({ signal: new PolyfillAbortController().signal as unknown as AbortSignal }))).name, 'a call with a signal never aborted answers').to.be.a('string');
  });

  it('still refuses what is no signal: no aborted property, or no way to listen', () => {
    for (const signal of [{ aborted: false }, { addEventListener() {}, removeEventListener() {} }, new EventTarget(), 'aborted']) {
      expect(() => callOptions({ signal: signal as never }), String(signal)).to.throw(InvalidArgumentError, /^\[call-options\] signal must be an AbortSignal/);
    }
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
      timer.arm(monotonicMs() + 3e9);
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

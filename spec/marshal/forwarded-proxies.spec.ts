import { expect } from 'chai';
import { release, type Remote } from '../../marshal/proxy.js';
import { byRef } from '../../marshal/by-ref.js';
import { endpointPair, exportTo } from './fixtures/endpoint-pair.js';
import { currentCall } from '../../apartments/context.js';
import { callOptions } from '../../marshal/call-options.js';
import { CallCanceledError } from '../../marshal/errors.js';

/** Wait until `ready()` holds (by polling: a loaded machine can pause the thread past any short sleep); give up after 10 s. */
async function until(ready: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !ready() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 2));
}

interface Tally {
  add(n: number): number;
  twice(f: (x: number) => number, x: number): Promise<number>;
  watch(): Promise<string>;
}

/** What the object saw: a cancel that reached it. */
const seen: string[] = [];

/**
 * Two links of one thread, each with an endpoint of its own on this side (as a runtime's main
 * apartment and its link to another runtime are): `near` imports an object of `far`'s, and
 * `relay`, this thread's other endpoint, hands that proxy on to `outer`.
 */
async function scene(): Promise<{ inner: Remote<Tally>; outer: ReturnType<typeof endpointPair>['b']; relay: ReturnType<typeof endpointPair>['a']; got: () => Promise<Remote<Tally>> }> {
  let total = 0;
  const tally = byRef({
    add: (n: number) => (total += n),
    twice: async (f: (x: number) => number, x: number) => 2 * (await f(x)),
    watch: () => new Promise<string>((resolve) => {
      seen.push('the call reached the object');
      currentCall()!.signal.addEventListener('abort', () => {
        seen.push('the object saw the cancel');
        resolve('aborted');
      });
    }),
  });
  // The forwarded call's own deadline is far off: only the served call's end can cancel it early.
  const first = endpointPair(600_000);
  const inner = await exportTo<Remote<Tally>>(first, tally);
  const second = endpointPair();
  second.a.control = { get: () => inner, same: (x: unknown) => x === inner };
  const got = async (): Promise<Remote<Tally>> => (await second.b.call(1, 0, 'get', [])) as Remote<Tally>;
  return { inner, outer: second.b, relay: second.a, got };
}

describe('marshal/endpoint: a proxy handed on through another endpoint of its thread', () => {
  it('travels as an object of that endpoint that forwards calls, keeps its identity, and comes home as the proxy', async () => {
    const { outer, relay, got } = await scene();
    const outerProxy = await got();
    expect(await outerProxy.add(5)).to.equal(5);
    expect(await outerProxy.add(2), 'the calls reach the one object behind the proxy').to.equal(7);
    expect(await got(), 'handed on twice, it is one object on the far side').to.equal(outerProxy);
    expect(relay.stats().exports, 'the relay exports the proxy once').to.equal(1);
    expect(await outer.call(1, 0, 'same', [outerProxy]), 'sent back, it arrives as the proxy it stands for').to.equal(true);
    release(outerProxy);
    await until(() => relay.stats().exports === 0);
    expect(relay.stats().exports, 'released on the far side, the relay exports nothing').to.equal(0);
  });

  it('forwards a callback the other way: the far side\'s function, passed in a forwarded call, reaches the object\'s side as an object of the relay', async () => {
    const { got, relay } = await scene();
    const outerProxy = await got();
    expect(await outerProxy.twice((x: number) => x + 1, 10)).to.equal(22);
    release(outerProxy);
    await until(() => relay.stats().exports === 0);
    expect(relay.stats().exports).to.equal(0);
  });
});

describe('marshal/endpoint: a call forwarded through another endpoint of its thread', () => {
  it('ends with the call it serves: the far caller\'s cancel reaches the object', async () => {
    seen.length = 0;
    const { got } = await scene();
    const outerProxy = await got();
    const controller = new AbortController();
    const watching = outerProxy.watch(callOptions({ signal: controller.signal })).then(() => undefined, (err: unknown) => err);
    await until(() => seen.length > 0);
    controller.abort();
    expect(await watching).to.be.instanceOf(CallCanceledError);
    await until(() => seen.length > 1);
    expect(seen).to.deep.equal(['the call reached the object', 'the object saw the cancel']);
    release(outerProxy);
  });
});

import { expect } from 'chai';
import { CallCanceledError, CallTimeoutError, MarshalError, callOptions, transfer, type Remote, type Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Crasher } from '../fixtures/crasher.js';
import { startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

describe('apartments/bad-input: values that cannot cross', () => {
  it('fails a non-cloneable argument with MarshalError naming the argument path; the object keeps serving', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const calc = await apt.createObject<Calc>('Calc');
    const err = (await calc.echo({ ok: 1, inner: [new WeakSet()] }).catch((e: unknown) => e)) as MarshalError;
    expect(err).to.be.instanceOf(MarshalError);
    expect(err.path).to.equal('args[0].inner[0]');
    expect(err.code).to.equal('DISP_E_BADVARTYPE');
    expect(await calc.add(1)).to.equal(1);
  });

  it('moves a transferred buffer instead of copying it', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const calc = await apt.createObject<Calc>('Calc');
    const buf = new Uint8Array([1, 2, 3]).buffer;
    const back = (await calc.echo(transfer({ buf }, [buf]))) as { buf: ArrayBuffer };
    expect(buf.byteLength).to.equal(0);
    expect([...new Uint8Array(back.buf)]).to.deep.equal([1, 2, 3]);
  });
});

describe('apartments/bad-input: a value that copying would make huge', () => {
  for (const link of ['shared-memory', 'port'] as const) {
    it(`refuses a result, a Map, a class instance, an object of another realm and an argument repeating one string past 2^29 characters with MarshalError [value-too-large] on a ${link} link; the apartment serves on`, async () => {
      ({ rt } = await startRuntime());
      const apt = await rt.createApartment({ transport: link });
      const crasher = await apt.createObject<Crasher>('Crasher');
      // 600 references to one 1 MiB string: 600 MiB in the host's heap once copied, and 6000 made
      // the host process abort before the bound.
      const result = (await crasher.repeated(600, 1).catch((e: unknown) => e)) as MarshalError;
      expect(result, String(result)).to.be.instanceOf(MarshalError);
      expect(result.message).to.match(/^\[value-too-large\] result\[512\] is too large to send: its strings come to more than 536870912 characters/);
      expect(result.path).to.equal('result[512]');
      for (const as of ['map', 'instance', 'foreign'] as const) {
        const held = (await crasher.repeated(600, 1, as).catch((e: unknown) => e)) as MarshalError;
        expect(held, `${as}: ${String(held)}`).to.be.instanceOf(MarshalError);
        expect(held.path, as).to.equal('result');
      }
      const text = 'y'.repeat(2 ** 20);
      const argument = (await crasher.take(new Array(600).fill(text) as unknown as string).catch((e: unknown) => e)) as MarshalError;
      expect(argument, String(argument)).to.be.instanceOf(MarshalError);
      expect(argument.path).to.equal('args[0][512]');
      // One object held in 600 places is copied once: its string counts once.
      const shared = { text };
      expect(await crasher.take(new Array(600).fill(shared) as unknown as string)).to.equal(600);
      expect(await crasher.ping()).to.equal('pong');
      expect(apt.state).to.equal('ready');
    });
  }
});

describe('apartments/bad-input: every call settles', () => {
  it('times out a call that hangs, naming the method and the apartment', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'slow' });
    const crasher = await apt.createObject<Crasher>('Crasher');
    const err = await crasher.hang(callOptions({ timeoutMs: 50 })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as Error).message).to.contain("'hang'").and.contain("'slow'");
    expect(await crasher.ping()).to.equal('pong');
  });

  it('uses the runtime default deadline', async () => {
    ({ rt } = await startRuntime({ defaultTimeoutMs: 60 }));
    const apt = await rt.createApartment();
    // createObject is held to the same 60 ms, which loading the class's module can pass on a loaded
    // machine; the module stays loaded, so a later attempt is quick. Only hang() is under test here.
    let crasher: Remote<Crasher> | undefined;
    for (let i = 0; i < 100 && crasher === undefined; i++) {
      crasher = await apt.createObject<Crasher>('Crasher').catch((e: unknown) => {
        if (e instanceof CallTimeoutError) return undefined;
        throw e;
      });
    }
    expect(crasher, 'created within 100 attempts').to.not.equal(undefined);
    expect(await crasher!.hang().catch((e: unknown) => e)).to.be.instanceOf(CallTimeoutError);
  });

  it('cancels a call through an AbortSignal', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const calc = await apt.createObject<Calc>('Calc');
    const ac = new AbortController();
    const p = calc.slowAdd(1, 200, callOptions({ signal: ac.signal })).catch((e: unknown) => e);
    ac.abort();
    expect(await p).to.be.instanceOf(CallCanceledError);
  });
});

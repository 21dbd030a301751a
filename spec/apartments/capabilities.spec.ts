import { expect } from 'chai';
import { DisconnectedError, InvalidArgumentError, byRef, globalInterfaceTable, marshalInterface, release, unmarshalInterface } from '../../lib/index.js';
import type { Account } from '../fixtures/admission-classes.js';
import type { Calc } from '../fixtures/calc.js';
import type { Holder } from '../fixtures/holder.js';
import { hostileScene, type HostileScene } from '../fixtures/hostile-scene.js';
import { eventually, expectNoExports } from '../fixtures/runtime-fixture.js';

// A plugin that was handed nothing tries to reach other apartments' objects by naming them: object
// ids are small counters, so it tries them all. Each attempt is refused with CO_E_OBJNOTCONNECTED
// and logged with the plugin named; references that were handed over, also to third apartments,
// keep working.

type Scene = HostileScene;
const scene = (): Promise<Scene> => hostileScene();

const GUESSES = Array.from({ length: 12 }, (_, i) => i + 1);

function expectNotGranted(err: unknown): void {
  expect(err).to.be.instanceOf(DisconnectedError);
  expect(err).to.include({ code: 'CO_E_OBJNOTCONNECTED' });
}

async function expectLoggedAgainst(s: Scene, apartment: number): Promise<void> {
  await eventually(() => {
    const logged = s.logs.filter((e) => e.apartment === apartment && e.message.includes('[not-granted]') && e.message.includes(s.plugin.label));
    expect(logged.length, 'the refusal is logged with the plugin named').to.be.greaterThan(0);
  });
}

describe('apartments/capabilities: a peer can name only what it was given', () => {
  it('guessing object ids 1–12 of another apartment reads and changes nothing', async () => {
    const s = await scene();
    const calc = await s.bystander.createObject<Calc>('Calc', 7);
    for (const oid of GUESSES) {
      expectNotGranted(await s.hostile.callById(s.bystander.id, oid, 'add', 1000).catch((e: unknown) => e));
      expectNotGranted(await s.hostile.callById(s.bystander.id, oid, 'value').catch((e: unknown) => e));
    }
    expect(await calc.value(), 'the object was not touched').to.equal(7);
    await expectLoggedAgainst(s, s.bystander.id);
    release(calc);
    release(s.hostile);
    await expectNoExports(s.rt);
  });

  it('a host callback given only to another apartment cannot be called by the plugin', async () => {
    const s = await scene();
    let calls = 0;
    const holder = await s.bystander.createObject<Holder>('Holder');
    await holder.keep(() => ++calls);
    expect(await holder.callKept(0, ''), 'the apartment it was given to calls it').to.equal(1);
    for (const oid of GUESSES) expectNotGranted(await s.hostile.callById(0, oid, '').catch((e: unknown) => e));
    expect(calls, 'the plugin never reached it').to.equal(1);
    await expectLoggedAgainst(s, 0);
    await holder.releaseAll();
    release(holder);
    release(s.hostile);
    await expectNoExports(s.rt);
  });

  it('a forged AddRef cannot keep an object alive after its holder released it, nor a forged Release drop it', async () => {
    const s = await scene();
    const calc = await s.bystander.createObject<Calc>('Calc');
    for (const oid of GUESSES) {
      expectNotGranted(await s.hostile.addRefById(s.bystander.id, oid, 5).catch((e: unknown) => e));
      await s.hostile.releaseById(s.bystander.id, oid, 1);
    }
    expect(await calc.add(1), 'the forged Release dropped nothing').to.equal(1);
    await expectLoggedAgainst(s, s.bystander.id);
    release(calc);
    release(s.hostile);
    await expectNoExports(s.rt);
  });

  it('a reference handed to a third apartment stays valid there (the hand-off grants it)', async () => {
    const s = await scene();
    const calc = await s.bystander.createObject<Calc>('Calc', 1);
    const third = await (await s.rt.createApartment({ name: 'third' })).createObject<Holder>('Holder');
    await third.keep(calc);
    expect(await third.callKept(0, 'add', 2)).to.equal(3);
    release(calc);
    expect(await third.callKept(0, 'add', 3), 'the third apartment holds its own reference').to.equal(6);
    await third.releaseAll();
    release(third);
    release(s.hostile);
    await expectNoExports(s.rt);
  });
});

describe('apartments/capabilities: marshal tokens and table cookies cannot be guessed', () => {
  it('a guessed token id neither unmarshals nor revokes a token', async () => {
    const s = await scene();
    const token = marshalInterface(byRef({ secret: () => 'S3CRET' }), 'normal');
    expect(token.id).to.be.a('string').with.length.of.at.least(32);
    for (const guess of ['1', '2', '0', 'token', String(token.id).slice(0, 8)]) {
      expectNotGranted(await s.hostile.control(0, 'marshal-tokens.unmarshal', guess).catch((e: unknown) => e));
      expect(await s.hostile.control(0, 'marshal-tokens.revoke', guess)).to.equal(false);
    }
    expect(await s.hostile.control(0, 'marshal-tokens.unmarshal', 1).catch((e: unknown) => e), 'a numeric id is no token id').to.be.instanceOf(InvalidArgumentError);
    const obj = await unmarshalInterface<{ secret(): string }>(token);
    expect(obj.secret(), 'the one-shot token is still there for its holder').to.equal('S3CRET');
  });

  it('a guessed global-interface-table cookie neither reads nor revokes an entry', async () => {
    const s = await scene();
    const cookie = await globalInterfaceTable.register({ hello: () => 'hi' });
    expect(cookie).to.be.a('string').with.length.of.at.least(32);
    for (const guess of ['1', '2', 'cookie']) {
      expectNotGranted(await s.hostile.control(0, 'interface-table.lookup', guess).catch((e: unknown) => e));
      expectNotGranted(await s.hostile.control(0, 'interface-table.revoke', guess).catch((e: unknown) => e));
    }
    const obj = await globalInterfaceTable.get<{ hello(): string }>(cookie);
    expect(obj.hello()).to.equal('hi');
    await globalInterfaceTable.revoke(cookie);
  });
});

describe('apartments/capabilities: a call chain cannot be joined by naming it', () => {
  it("calls that claim to be the host's chains 1–300 wait for the turn the host's chain holds", async () => {
    const s = await hostileScene({}, { Account: 'admission-classes.js' });
    const acct = await s.bystander.createObject<Account>('Account');
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const held = acct.depositHeld(5, 'host', gate);
    await eventually(() => {
      expect(Atomics.load(gate, 1), 'the host holds the account').to.equal(1);
    }, 60_000);
    // Chain ids counted 1, 2, 3… made one of these the holder's own: that call ran inside its turn.
    const guesses = Array.from({ length: 300 }, (_, i) => i + 1);
    expect(await s.hostile.callInChains(acct, 'deposit', guesses, [1, 'guess'])).to.equal(true);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    expect(await held, "the host's deposit lost nothing to a call run inside its turn").to.equal(5);
    expect(await s.hostile.chainCallsSettled(), 'every guess was served, in its own turn').to.equal(guesses.length);
    const history = await acct.history();
    expect(history.slice(0, 2)).to.deep.equal(['start host', 'end host']);
    expect(await acct.getBalance()).to.equal(5 + guesses.length);
    release(acct);
    release(s.hostile);
    await expectNoExports(s.rt);
  });
});

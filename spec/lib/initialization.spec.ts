import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { DisconnectedError, InvalidArgumentError, globalInterfaceTable, revokeMarshal, unmarshalInterface, type MarshalToken, type Runtime } from '../../lib/index.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

type Probe = {
  run(): Promise<string[]>;
  token(kind: string): Promise<MarshalToken>;
  use(t: MarshalToken): Promise<string>;
  fromGit(c: string): Promise<string>;
  revokeGit(c: string): Promise<void>;
  revoke(t: MarshalToken): Promise<void>;
};

async function start(): Promise<Runtime> {
  ({ rt } = await startRuntime({ freePoolSize: 1 }));
  rt.registerClass('InitProbe', { module: fixture('init-probe.js'), export: 'InitProbe' });
  rt.registerClass('PoolInitProbe', { module: fixture('init-probe.js'), export: 'PoolInitProbe' });
  return rt;
}

describe('lib/context: joining an apartment is counted per thread', () => {
  it('counts joins of the same model and refuses another model without changing anything', async () => {
    const r = await start();
    const sta = await (await r.createApartment()).createObject<Probe>('InitProbe');
    expect(await sta.run()).to.deep.equal(['apartment:2', 'free:ChangedModeError', 'apartment:3', 'un:2', 'un:1', 'un:ApartmentError']);
    const mta = await r.createObject<Probe>('PoolInitProbe');
    expect(await mta.run()).to.deep.equal(['free:2', 'apartment:ChangedModeError', 'free:3', 'un:2', 'un:1', 'un:ApartmentError']);
  });

  it('fails with NotInitializedError on a thread that never joined an apartment', async () => {
    const worker = new Worker(new URL('../fixtures/not-an-apartment.js', import.meta.url));
    const answer = await new Promise<string>((resolve) => worker.once('message', resolve));
    await worker.terminate();
    expect(answer).to.equal('NotInitializedError:CO_E_NOTINITIALIZED NotInitializedError:CO_E_NOTINITIALIZED');
  });
});

describe('lib/interface-marshaling: marshal kinds and the global interface table', () => {
  it('unmarshals a normal token once; a second unmarshal fails with CO_E_OBJNOTCONNECTED', async () => {
    const r = await start();
    const owner = await (await r.createApartment()).createObject<Probe>('InitProbe');
    const user = await (await r.createApartment()).createObject<Probe>('InitProbe');
    const token = await owner.token('normal');
    expect(await user.use(token)).to.equal('hi from the token owner');
    const err = await user.use(token).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DisconnectedError);
    expect((err as DisconnectedError).code).to.equal('CO_E_OBJNOTCONNECTED');
  });

  it('unmarshals a table-strong token many times, keeps its object alive, until another apartment revokes it', async () => {
    const r = await start();
    const owner = await (await r.createApartment()).createObject<Probe>('InitProbe');
    const user = await (await r.createApartment()).createObject<Probe>('InitProbe');
    const token = await owner.token('table-strong');
    // Collected before anyone unmarshals it: only the table holds the object (the table-weak case below dies here).
    const janitor = await r.apartments[0]!.createObject<{ collect(): Promise<boolean> }>('Janitor');
    expect(await janitor.collect()).to.equal(true);
    expect(await user.use(token), 'still there after a full collection').to.equal('hi from the token owner');
    expect(await user.use(token)).to.equal('hi from the token owner');
    await user.revoke(token);
    const err = await user.use(token).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DisconnectedError);
    expect((err as DisconnectedError).code).to.equal('CO_E_OBJNOTCONNECTED');
  });

  it('does not keep a table-weak object alive', async () => {
    const r = await start();
    const owner = await (await r.createApartment()).createObject<Probe>('InitProbe');
    const user = await (await r.createApartment()).createObject<Probe>('InitProbe');
    const token = await owner.token('table-weak');
    const janitor = await r.apartments[0]!.createObject<{ collect(): Promise<boolean> }>('Janitor');
    expect(await janitor.collect()).to.equal(true);
    expect(await user.use(token).catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
  });

  it('hands out a GIT cookie usable and revocable from any apartment', async () => {
    const r = await start();
    const user = await (await r.createApartment()).createObject<Probe>('InitProbe');
    const cookie = await globalInterfaceTable.register({ hello: () => 'hi from the host' });
    expect(await user.fromGit(cookie)).to.equal('hi from the host');
    const mine = await globalInterfaceTable.get<{ hello(): string }>(cookie);
    expect(mine.hello()).to.equal('hi from the host');
    await user.revokeGit(cookie);
    expect(await user.fromGit(cookie).catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
  });
});

describe('lib/interface-marshaling: a pooled apartment\'s checkin revokes the tokens marshaled there', () => {
  it('leaves no token of the last owner that still reaches an object for the next one', async () => {
    const r = await start();
    const pool = r.createPool({ size: 1 });
    const lease = await pool.checkout();
    const probe = await lease.createObject<Probe>('InitProbe');
    const tokens = [await probe.token('table-strong'), await probe.token('normal')];
    await lease.checkin();
    const next = await pool.checkout();
    for (const token of tokens) {
      const err = await unmarshalInterface(token).catch((e: unknown) => e);
      expect(err, `a ${token.kind} token`).to.be.instanceOf(DisconnectedError);
      expect(err).to.include({ code: 'CO_E_OBJNOTCONNECTED' });
    }
    expect((await next.stats()).exports, 'nothing of the last owner is exported again').to.equal(0);
  });
});

describe('lib/interface-marshaling: a malformed token is refused as a bad argument', () => {
  it('fails with InvalidArgumentError [marshal-token] for a token whose apartment is no apartment id', async () => {
    const r = await start();
    await r.createApartment();
    for (const apartment of [NaN, -1, 1.5, Infinity]) {
      const token = { apartment, id: 'a'.repeat(32), kind: 'normal' } as MarshalToken;
      for (const use of [() => unmarshalInterface(token), () => revokeMarshal(token)]) {
        const err = await use().catch((e: unknown) => e);
        expect(err, `apartment ${apartment}`).to.be.instanceOf(InvalidArgumentError);
        expect((err as Error).message).to.match(/^\[marshal-token\]/);
      }
    }
  });
});

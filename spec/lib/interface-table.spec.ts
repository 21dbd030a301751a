import { expect } from 'chai';
import { AccessDeniedError, ApartmentError, DisconnectedError, globalInterfaceTable, unmarshalInterface, type MarshalToken, type Runtime } from '../../lib/index.js';
import { mainService } from '../../apartments/main-call.js';
import { InterfaceTableService, MAX_GIT_ENTRIES } from '../../lib/interface-table.js';
import { hostileScene } from '../fixtures/hostile-scene.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';

// The global interface table is kept by the main apartment for every apartment of the runtime:
// what it holds for an apartment must go with that apartment.

type Probe = { registerGit(): Promise<string>; fromGit(cookie: string): Promise<string> };

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime();
  rt.registerClass('InitProbe', { module: fixture('init-probe.js'), export: 'InitProbe' });
  return rt;
}

async function expectUnregistered(cookie: string): Promise<void> {
  const err = await mainService(InterfaceTableService).lookup(cookie).catch((e: unknown) => e);
  expect(err, 'the entry is gone from the table').to.be.instanceOf(DisconnectedError);
  expect(err).to.include({ code: 'CO_E_OBJNOTCONNECTED' });
  expect((err as Error).message).to.match(/^\[git\]/);
}

describe('lib/interface-table: the entries of an apartment that is gone are dropped', () => {
  for (const end of ['close', 'terminate'] as const) {
    it(`drops what an apartment registered once it ${end === 'close' ? 'closed' : 'faulted'}`, async () => {
      const rt = await start();
      const ownerApt = await rt.createApartment({ name: 'owner' });
      const owner = await ownerApt.createObject<Probe>('InitProbe');
      const user = await (await rt.createApartment({ name: 'user' })).createObject<Probe>('InitProbe');
      const cookie = await owner.registerGit();
      expect(await user.fromGit(cookie)).to.equal('hi from the registering apartment');
      await ownerApt[end]();
      await expectUnregistered(cookie);
      const err = await user.fromGit(cookie).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(DisconnectedError);
      expect((err as Error).message).to.match(/^\[git\]/);
    });
  }
});

describe('lib/interface-table: the entries of a pooled apartment are dropped when it is checked in', () => {
  it('forgets what the previous owner registered, so it counts toward no later owner\'s quota', async () => {
    const rt = await start();
    const pool = rt.createPool({ size: 1 });
    const lent = await pool.checkout();
    const lentId = lent.id;
    const probe = await lent.createObject<Probe>('InitProbe');
    const cookie = await probe.registerGit();
    await lent.checkin();
    await expectUnregistered(cookie);
    const next = await pool.checkout();
    expect(next.id, 'the same apartment, reset').to.equal(lentId);
    const again = await (await next.createObject<Probe>('InitProbe')).registerGit();
    expect(await (await rt.createApartment({ name: 'user' })).createObject<Probe>('InitProbe').then((u) => u.fromGit(again))).to.equal('hi from the registering apartment');
    await next.checkin();
  });
});

describe('lib/interface-table: an apartment registers only its own tokens', () => {
  it('refuses a registration naming another apartment with AccessDeniedError, and takes the caller\'s own', async () => {
    const s = await hostileScene();
    for (const apartment of [0, s.bystander.id]) {
      const err = await s.hostile.control(0, 'interface-table.register', { apartment, id: 'a'.repeat(32), kind: 'table-strong' }).catch((e: unknown) => e);
      expect(err, `a token of apartment ${apartment}`).to.be.instanceOf(AccessDeniedError);
      expect((err as Error).message).to.match(/^\[git-denied\]/);
    }
    const own = await s.hostile.control(0, 'interface-table.register', { apartment: s.plugin.id, id: 'a'.repeat(32), kind: 'table-strong' });
    expect(own, 'a token of its own apartment').to.be.a('string').with.length(32);
  });
});

describe('lib/interface-table: what one apartment keeps registered is bounded', () => {
  it(`refuses a worker apartment's entry past ${MAX_GIT_ENTRIES} with ERROR_BUSY, and takes one again after a revoke`, async function () {
    this.timeout(60_000);
    const s = await hostileScene();
    const token = (n: number): object => ({ apartment: s.plugin.id, id: n.toString(16).padStart(32, '0'), kind: 'table-strong' });
    const cookies: unknown[] = [];
    for (let n = 0; n < MAX_GIT_ENTRIES; n++) cookies.push(await s.hostile.control(0, 'interface-table.register', token(n)));
    const err = await s.hostile.control(0, 'interface-table.register', token(MAX_GIT_ENTRIES)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApartmentError);
    expect(err).to.include({ code: 'ERROR_BUSY' });
    expect((err as Error).message).to.match(/^\[git-quota\]/);
    const others = await globalInterfaceTable.register({ hello: () => 'hi' });
    expect(others, 'other apartments register as before').to.be.a('string');
    await s.hostile.control(0, 'interface-table.revoke', cookies[0]);
    expect(await s.hostile.control(0, 'interface-table.register', token(MAX_GIT_ENTRIES)), 'room again after a revoke').to.be.a('string');
  });
});

describe('lib/interface-table: a revoke is one step', () => {
  it('revokes the token where it was made when the entry is dropped, so a revoker that asks and goes leaves nothing alive', async () => {
    const s = await hostileScene();
    s.rt.registerClass('InitProbe', { module: fixture('init-probe.js'), export: 'InitProbe' });
    const owner = await (await s.rt.createApartment({ name: 'owner' })).createObject<Probe & { registerGitToken(): Promise<{ cookie: string; token: MarshalToken }> }>('InitProbe');
    const { cookie, token } = await owner.registerGitToken();
    expect(await (await unmarshalInterface<{ hello(): Promise<string> }>(token)).hello()).to.equal('hi from the registering apartment');
    // The plugin asks the main apartment to drop the entry and does nothing more (as one that died
    // right after would): before, the token lived on in the owner's apartment, keeping the object.
    await s.hostile.control(0, 'interface-table.revoke', cookie);
    await expectUnregistered(cookie);
    const err = await unmarshalInterface(token).catch((e: unknown) => e);
    expect(err, 'the token is revoked too').to.be.instanceOf(DisconnectedError);
    // The main apartment's own registrations are revoked the same way.
    const mine = await globalInterfaceTable.register({ hello: () => 'hi' });
    await globalInterfaceTable.revoke(mine);
    await expectUnregistered(mine);
  });
});

import { expect } from 'chai';
import { InvalidArgumentError, release, type Apartment, type AssignmentPolicy, type Remote, type Runtime, type RuntimeOptions } from '../../lib/index.js';
import type { Tally } from '../fixtures/assignment-classes.js';
import type { Sprocket, Widget } from '../fixtures/widget.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

async function start(options: RuntimeOptions = {}): Promise<Runtime> {
  ({ rt } = await startRuntime(options));
  rt.registerClass('Tally', { module: fixture('assignment-classes.js'), export: 'Tally' });
  return rt;
}

async function place(n: number, make: () => Promise<Remote<Tally>>): Promise<{ objs: Remote<Tally>[]; where: number[] }> {
  const objs: Remote<Tally>[] = [];
  for (let i = 0; i < n; i++) objs.push(await make());
  return { objs, where: await Promise.all(objs.map((o) => o.where())) };
}

describe('apartments/assignment: single-thread', () => {
  it('puts every externally created object in one worker apartment', async () => {
    const r = await start({ assignment: 'single-thread' });
    const { where } = await place(4, () => r.createObject<Tally>('Tally'));
    expect(new Set(where).size).to.equal(1);
    expect(where[0]).to.not.equal(0);
  });
});

describe('apartments/assignment: round-robin', () => {
  it('goes round the pool in order, so which objects share module globals depends on creation order', async () => {
    const r = await start({ assignment: { policy: 'round-robin', apartments: 3 } });
    const { objs, where } = await place(5, () => r.createObject<Tally>('Tally'));
    expect(where[3]).to.equal(where[0]);
    expect(where[4]).to.equal(where[1]);
    expect(new Set(where).size).to.equal(3);
    // Objects 0 and 3 share a module global; the client only finds out by asking.
    expect(await objs[0]!.globalCount()).to.equal(2);
    expect(await objs[2]!.globalCount()).to.equal(1);
  });

  it('does no load balancing: after everything on apartments 1 and 2 is released, new objects still go to 3, 4, 5', async () => {
    const r = await start({ assignment: { policy: 'round-robin', apartments: 5 } });
    const first = await place(2, () => r.createObject<Tally>('Tally'));
    for (const o of first.objs) release(o);
    // Wait until apartments 1 and 2 really hold nothing: the next picks are made on empty apartments.
    await eventually(async () => {
      for (const id of first.where) expect((await r.apartments.find((a) => a.id === id)!.stats()).exports, `apartment ${id} exports`).to.equal(0);
    });
    const next = await place(3, () => r.createObject<Tally>('Tally'));
    expect(next.where.some((w) => first.where.includes(w))).to.equal(false);
    expect(new Set([...first.where, ...next.where]).size).to.equal(5);
  });
});

describe('apartments/assignment: least-loaded', () => {
  it('fills released apartments first', async () => {
    const r = await start({ assignment: { policy: 'least-loaded', apartments: 3 } });
    const { objs, where } = await place(3, () => r.createObject<Tally>('Tally'));
    expect(new Set(where).size).to.equal(3);
    release(objs[1]!);
    await eventually(async () => {
      const again = await r.createObject<Tally>('Tally');
      const w = await again.where();
      release(again);
      expect(w).to.equal(where[1]);
    });
  });
});

describe('apartments/assignment: least-loaded breaks ties by queued calls', () => {
  it('picks, among apartments with as many live objects, the one with fewer calls waiting', async () => {
    const r = await start({ assignment: { policy: 'least-loaded', apartments: 2 } });
    const { objs, where } = await place(2, () => r.createObject<Tally>('Tally'));
    expect(new Set(where).size).to.equal(2);
    // One object each; the first apartment, which a plain tie would pick, gets a call waiting for its turn.
    const first = r.apartments.find((a) => a.id === where[0])!;
    const busy = objs[0]!.busy();
    const queued = objs[0]!.where();
    await eventually(async () => {
      expect((await first.stats()).queuedCalls).to.equal(1);
    });
    const next = await r.createObject<Tally>('Tally');
    expect(await next.where()).to.equal(where[1]);
    expect(await objs[0]!.free()).to.equal(1);
    await busy;
    expect(await queued).to.equal(where[0]);
  });
});

describe('apartments/assignment: thread-per-object', () => {
  it('gives every object its own apartment, which exits when nothing in it is referenced', async () => {
    const r = await start({ assignment: 'thread-per-object' });
    const { objs, where } = await place(2, () => r.createObject<Tally>('Tally'));
    expect(where[0]).to.not.equal(where[1]);
    const apt = r.apartments.find((a) => a.id === where[0])!;
    release(objs[0]!);
    await eventually(() => {
      expect(apt.state).to.equal('closed');
    });
    expect(await objs[1]!.where()).to.equal(where[1]);
  });

  it('keeps the apartment while a dependent object is referenced (the Widget/Sprocket case)', async () => {
    const r = await start({ assignment: 'thread-per-object' });
    const widget = await r.createObject<Widget>('Widget');
    const home = await widget.where();
    const apt = r.apartments.find((a) => a.id === home)! as Apartment;
    const sprocket = (await widget.makeSprocket(7)) as unknown as Remote<Sprocket>;
    release(widget);
    await new Promise((res) => setTimeout(res, 100));
    expect(apt.state).to.equal('ready');
    expect(await sprocket.getSize()).to.equal(7);
    release(sprocket);
    await eventually(() => {
      expect(apt.state).to.equal('closed');
    });
  });
});

describe('apartments/assignment: custom policies, per-call policies and the cap', () => {
  it('runs a user function with the live apartments and their load', async () => {
    const seen: number[] = [];
    const byClass: AssignmentPolicy = (req, apts) => {
      seen.push(apts.length);
      return req.className === 'Tally' && apts.length > 0 ? apts[0]! : 'new';
    };
    const r = await start({ assignment: byClass });
    const { where } = await place(3, () => r.createObject<Tally>('Tally'));
    expect(new Set(where).size).to.equal(1);
    expect(seen).to.deep.equal([0, 1, 1]);
  });

  it('refuses a policy that returns an apartment it was not offered', async () => {
    const r = await start();
    const foreign = await r.createApartment();
    const err = await r.createObjectWith({ assignment: () => foreign }, 'Tally').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidArgumentError);
  });

  it('lets one creation pick its own policy from the host', async () => {
    const r = await start({ assignment: 'single-thread' });
    const a = await r.createObject<Tally>('Tally');
    const b = await r.createObjectWith<Tally>({ assignment: 'thread-per-object' }, 'Tally');
    expect(await a.where()).to.not.equal(await b.where());
    const w = await r.createObject<Widget>('Widget');
    expect(await w.where()).to.equal(await a.where());
  });

  it('lets code inside an apartment create through the policy: a proxy when the object lands elsewhere, the object itself when it lands here', async () => {
    const r = await start({ assignment: 'single-thread' });
    const a = await r.createObject<Tally>('Tally');
    const home = await a.where();
    const elsewhere = await a.createFromHere('thread-per-object');
    expect(elsewhere.where).to.not.equal(home);
    expect(elsewhere.where).to.not.equal(0);
    expect(elsewhere.proxy).to.equal(true);
    // The runtime's policy (single-thread) sends it to the one apartment: the creator's own.
    expect(await a.createFromHere()).to.deep.equal({ where: home, proxy: false });
  });

  it('at the cap, sends a new object to the least-loaded apartment the policy has', async () => {
    const r = await start({ assignment: 'thread-per-object', maxApartments: 2 });
    const { where } = await place(3, () => r.createObject<Tally>('Tally'));
    expect(new Set(where).size).to.equal(2);
    expect(r.apartments).to.have.length(2);
  });
});

describe('apartments/assignment: one cap for every policy together', () => {
  it('keeps a round-robin pool larger than the cap within the cap', async () => {
    const r = await start({ assignment: { policy: 'round-robin', apartments: 5 }, maxApartments: 2 });
    const { where } = await place(5, () => r.createObject<Tally>('Tally'));
    expect(new Set(where).size).to.equal(2);
    expect(r.apartments).to.have.length(2);
  });

  it('is not escaped by a new user function per creation: each lands in an existing apartment at the cap', async () => {
    const r = await start({ maxApartments: 2 });
    const { where } = await place(4, () => r.createObjectWith<Tally>({ assignment: () => 'new' }, 'Tally'));
    expect(new Set(where).size).to.equal(2);
    expect(r.apartments).to.have.length(2);
  });

  it('counts the apartments of different policies against one cap', async () => {
    const r = await start({ assignment: { policy: 'round-robin', apartments: 3 }, maxApartments: 3 });
    const pooled = await place(2, () => r.createObject<Tally>('Tally'));
    const own = await place(3, () => r.createObjectWith<Tally>({ assignment: 'thread-per-object' }, 'Tally'));
    expect(r.apartments).to.have.length(3);
    // The one slot left went to thread-per-object; after that it shares its own apartment.
    expect(new Set(own.where).size).to.equal(1);
    expect(own.where.some((w) => pooled.where.includes(w))).to.equal(false);
  });
});

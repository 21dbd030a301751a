import { expect } from 'chai';
import { checkNodeOptions, type NodeOptions } from '../../../lib/cluster/node-options.js';
import { InvalidArgumentError } from '../../../lib/index.js';
import { rejection } from '../../fixtures/process-fixture.js';
import { startRuntime } from '../../fixtures/runtime-fixture.js';
import { expectUnknownOption } from '../../fixtures/option-refusals.js';

const NATS = 'nats://127.0.0.1:4222';

/** The InvalidArgumentError checkNodeOptions throws for `options` (given as the untyped value a caller may pass). */
function refused(options: unknown): InvalidArgumentError {
  try {
    checkNodeOptions(options as NodeOptions);
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error(`expected checkNodeOptions to refuse ${JSON.stringify(options)}`);
}

describe('lib/cluster/node-options: a node name is one subject token', () => {
  it('refuses a name with a dot, an empty or too long name, and one that is not a string, naming node.name', () => {
    for (const name of ['a.b', '', 'x'.repeat(65), 'has space', 'a*', 'a>', 7, undefined, null]) {
      const err = refused({ name, nats: NATS });
      expect(err.message, String(name)).to.match(/^\[node-name\] node\.name must be letters, digits, '_' and '-' \(at most 64\); got /);
      expect(err.parameter).to.equal('node.name');
    }
  });

  it('takes letters, digits, _ and - up to 64 characters', () => {
    for (const name of ['a', 'Node_1-b', 'x'.repeat(64)]) expect(checkNodeOptions({ name, nats: NATS }).name).to.equal(name);
  });

  it('refuses options that are not an object', () => {
    for (const options of [undefined, null, 'a', 3]) expect(refused(options).message).to.match(/^\[node\] node must be \{ name, nats \}/);
  });
});

describe('lib/cluster/node-options: keys nobody reads', () => {
  it('refuses a misspelt key of node and of node.heartbeat, naming the one meant', () => {
    // Before: ignored, and the node renewed its claims every 5 s instead of the 60 s asked for.
    expectUnknownOption(refused({ name: 'a', nats: NATS, leaseMS: 60_000 }), 'leaseMS', 'Runtime.start({ node })', 'leaseMs');
    expectUnknownOption(refused({ name: 'a', nats: NATS, heartbeat: { periodMs: 500, mises: 3 } }), 'mises', 'Runtime.start({ node: { heartbeat } })', 'misses');
    expect(checkNodeOptions({ name: 'a', nats: NATS, leaseMs: 60_000, heartbeat: { periodMs: 500, misses: 3 } }).leaseMs).to.equal(60_000);
  });
});

describe('lib/cluster/node-options: a cluster name is one subject token', () => {
  it('refuses a cluster name with a dot, an empty or too long one, and one that is not a string, naming node.cluster', () => {
    for (const cluster of ['apps.prod', '', 'c'.repeat(65), 'a b', 5]) {
      const err = refused({ name: 'a', nats: NATS, cluster });
      expect(err.message, String(cluster)).to.match(/^\[node-cluster\] node\.cluster must be letters, digits, '_' and '-' \(at most 64\)/);
      expect(err.parameter).to.equal('node.cluster');
    }
  });
});

describe('lib/cluster/node-options: credentials and the disconnect advisories subject', () => {
  it('takes { user, pass } or { token }, and refuses anything else, naming node.auth', () => {
    expect(checkNodeOptions({ name: 'a', nats: NATS, auth: { user: 'app', pass: 'secret' } }).auth).to.deep.equal({ user: 'app', pass: 'secret' });
    expect(checkNodeOptions({ name: 'a', nats: NATS, auth: { token: 't0k' } }).auth).to.deep.equal({ token: 't0k' });
    expect(checkNodeOptions({ name: 'a', nats: NATS }).auth).to.equal(undefined);
    for (const auth of [null, 'app:secret', {}, { user: 'app' }, { user: '', pass: 'x' }, { user: 'app', pass: 7 }, { token: '' }, { token: 't', user: 'u' }, { user: 'u', pass: 'p', extra: 1 }, { token: 'x'.repeat(4_097) }]) {
      const err = refused({ name: 'a', nats: NATS, auth });
      expect(err.message, JSON.stringify(auth)).to.match(/^\[node-auth\] node\.auth /);
      expect(err.parameter).to.equal('node.auth');
    }
  });

  it('takes threadAuth in the same forms, apart from auth, and refuses anything else, naming node.threadAuth', () => {
    const resolved = checkNodeOptions({ name: 'a', nats: NATS, auth: { user: 'a', pass: 'x' }, threadAuth: { user: 'a-threads', pass: 'y' } });
    expect(resolved.threadAuth).to.deep.equal({ user: 'a-threads', pass: 'y' });
    expect(resolved.auth).to.deep.equal({ user: 'a', pass: 'x' });
    for (const threadAuth of [null, 'a:x', { user: 'a' }, { token: '' }]) {
      const err = refused({ name: 'a', nats: NATS, threadAuth });
      expect(err.message, JSON.stringify(threadAuth)).to.match(/^\[node-auth\] node\.threadAuth /);
      expect(err.parameter).to.equal('node.threadAuth');
    }
  });

  it('takes a subject without wildcards, and refuses anything else, naming node.disconnects', () => {
    for (const subject of ['apartments.disconnects', '$SYS.ACCOUNT.APP.DISCONNECT', 'x']) {
      expect(checkNodeOptions({ name: 'a', nats: NATS, disconnects: subject }).disconnects).to.equal(subject);
    }
    for (const disconnects of ['', 'a.*', 'a.>', 'a..b', '.a', 'a b', 7, null, `${'t.'.repeat(16)}t`]) {
      const err = refused({ name: 'a', nats: NATS, disconnects });
      expect(err.message, String(disconnects)).to.match(/^\[node-disconnects\] node\.disconnects must be a NATS subject without wildcards/);
      expect(err.parameter).to.equal('node.disconnects');
    }
  });
});

describe('lib/cluster/node-options: nats names at least one server', () => {
  it('refuses missing, empty or non-string servers, naming node.nats', () => {
    for (const nats of [undefined, null, '', [], [''], [NATS, ''], [NATS, 4222], 4222, { url: NATS }]) {
      const err = refused({ name: 'a', nats });
      expect(err.message, JSON.stringify(nats)).to.match(/^\[node-nats\] node\.nats must name a NATS server/);
      expect(err.parameter).to.equal('node.nats');
    }
  });

  it('takes one server as a list of one, and keeps a list in its order, copied', () => {
    expect(checkNodeOptions({ name: 'a', nats: NATS }).servers).to.deep.equal([NATS]);
    const list = ['nats://h2:4222', 'nats://h1:4222'];
    const servers = checkNodeOptions({ name: 'a', nats: list }).servers;
    expect(servers).to.deep.equal(['nats://h2:4222', 'nats://h1:4222']);
    expect(servers).to.not.equal(list);
  });
});

describe('lib/cluster/node-options: the heartbeat between nodes is checked', () => {
  it('refuses a period outside 10 ms to 1 h or not whole, and misses outside 1 to 1000 or not whole, naming node.heartbeat', () => {
    for (const periodMs of [9, 0, -1, 3_600_001, 1.5, NaN, '1000']) {
      const err = refused({ name: 'a', nats: NATS, heartbeat: { periodMs } });
      expect(err.message, String(periodMs)).to.match(/^\[heartbeat\] node\.heartbeat\.periodMs must be a whole number of milliseconds from 10 to 3 600 000/);
      expect(err.parameter).to.equal('node.heartbeat');
    }
    for (const misses of [0, 1_001, 2.5, -3, '10']) {
      const err = refused({ name: 'a', nats: NATS, heartbeat: { misses } });
      expect(err.message, String(misses)).to.match(/^\[heartbeat\] node\.heartbeat\.misses must be a whole number from 1 to 1000/);
      expect(err.parameter).to.equal('node.heartbeat');
    }
  });

  it('takes the bounds themselves', () => {
    expect(checkNodeOptions({ name: 'a', nats: NATS, heartbeat: { periodMs: 10, misses: 1 } }).heartbeat).to.deep.equal({ periodMs: 10, misses: 1 });
    expect(checkNodeOptions({ name: 'a', nats: NATS, heartbeat: { periodMs: 3_600_000, misses: 1_000 } }).heartbeat).to.deep.equal({ periodMs: 3_600_000, misses: 1_000 });
  });
});

describe('lib/cluster/node-options: the directory lease is checked', () => {
  it('refuses a lease outside 1 s to 1 day or not whole, naming node.leaseMs', () => {
    for (const leaseMs of [999, 0, 86_400_001, 1_500.5, NaN, '15000']) {
      const err = refused({ name: 'a', nats: NATS, leaseMs });
      expect(err.message, String(leaseMs)).to.match(/^\[node-lease\] node\.leaseMs must be a whole number of milliseconds from 1 000 to 86 400 000/);
      expect(err.parameter).to.equal('node.leaseMs');
    }
  });

  it('takes the bounds themselves', () => {
    expect(checkNodeOptions({ name: 'a', nats: NATS, leaseMs: 1_000 }).leaseMs).to.equal(1_000);
    expect(checkNodeOptions({ name: 'a', nats: NATS, leaseMs: 86_400_000 }).leaseMs).to.equal(86_400_000);
  });
});

describe('lib/cluster/node-options: what is left out takes its default', () => {
  it("defaults to cluster 'apartments', a heartbeat of 1000 ms × 10, a lease of 15 000 ms, no credentials and no advisories", () => {
    expect(checkNodeOptions({ name: 'a', nats: NATS })).to.deep.equal({
      name: 'a',
      servers: [NATS],
      cluster: 'apartments',
      heartbeat: { periodMs: 1_000, misses: 10 },
      leaseMs: 15_000,
      auth: undefined,
      threadAuth: undefined,
      disconnects: undefined,
    });
  });

  it('fills in the half of the heartbeat that is left out, and keeps what is given', () => {
    expect(checkNodeOptions({ name: 'a', nats: NATS, heartbeat: { periodMs: 250 } }).heartbeat).to.deep.equal({ periodMs: 250, misses: 10 });
    expect(checkNodeOptions({ name: 'a', nats: NATS, heartbeat: { misses: 3 } }).heartbeat).to.deep.equal({ periodMs: 1_000, misses: 3 });
    expect(checkNodeOptions({ name: 'b', nats: [NATS], cluster: 'prod_1', leaseMs: 5_000 })).to.deep.include({ name: 'b', cluster: 'prod_1', leaseMs: 5_000 });
  });
});

describe('lib/cluster/node-options: a runtime that is not a node refuses apartments on other nodes', () => {
  it("refuses node: 'b' with [node-none], and a node name that is not one with [node-name], starting nothing", async () => {
    const { rt } = await startRuntime();
    const none = await rejection(Promise.resolve().then(() => rt.createApartment({ node: 'b' })));
    expect(none, String(none)).to.be.instanceOf(InvalidArgumentError);
    expect(none.message).to.match(/^\[node-none\] this runtime is not a node of a cluster; start it with Runtime\.start\(\{ node: \{ name, nats \} \}\) to place apartments on node 'b'/);
    expect((none as InvalidArgumentError).parameter).to.equal('node');

    const badName = await rejection(Promise.resolve().then(() => rt.createApartment({ node: 'a.b' })));
    expect(badName, String(badName)).to.be.instanceOf(InvalidArgumentError);
    expect(badName.message).to.match(/^\[node-name\] node must name a node of the cluster in letters, digits, '_' and '-' \(at most 64\); got 'a\.b'/);
    expect((badName as InvalidArgumentError).parameter).to.equal('node');
    expect(rt.node).to.equal(undefined);
    expect(rt.apartments).to.have.length(0);
  });
});

import { serialize } from 'node:v8';
import { expect } from 'chai';
import { release } from '../../../lib/index.js';
import { startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import { bootRecord, handPeer, until } from '../../fixtures/hand-peer.js';
import { startNatsServer } from '../../fixtures/nats-server.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';

// A node holds at most 256 MiB of unfinished parted messages for all other nodes, and each session
// at most one message of 64 MiB. Mallory begins four messages of 64 MiB less 64 KiB (its node
// pair's and three apartments') and never finishes them: they would fill all but 256 KiB of the
// allowance, and every other node's parted messages would fail with [node-busy] until mallory's
// sessions ended (ten minutes at least). Its share is half: only two of them are held.

/** Bytes of a part: the default max_payload (1 MiB) less room for the frame's header. */
const PART_BYTES = 1_048_576 - 1_024;
/** Parts of each message mallory sends; it says there is one more, which never comes. */
const PARTS = 64;
/** Parts published before mallory waits for the node to have read them: the server's buffer for a slow reader stays far from full. */
const BATCH = 8;

describe("lib/cluster: one host's unfinished parted messages hold at most its share of a node's allowance", () => {
  it("ends the session whose parts pass the host's share with [node-busy], and another node's large call to that node goes through", async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const peer = await handPeer(nats.url);
    // A heartbeat of 10 minutes: mallory need not ping, and no part is dropped for its age meanwhile.
    expect((await peer.ask('b', JSON.stringify({ op: 'hello', from: 'mallory', epoch: 'e1', session: 'e1.1', periodMs: 60_000, misses: 10 }))).knows).to.equal(true);
    const inbox = `apartments.b.${b.epoch}`;
    const links = [1, 2, 3];
    for (const link of links) peer.nc.publish(`${inbox}.mallory`, serialize(['mallory', 'e1.1', link - 1, 'apartment:boot', link, bootRecord(peer, inbox, link)]));
    const said = (tag: string, session: string) => peer.frames.some((f) => f[3] === tag && f[1] === session);
    const exited = (link: number) => peer.frames.some((f) => f[3] === 'apartment:exited' && f[4] === link);
    await until(() => links.every((link) => said('apartment:hello', `e1.1/${link}`)));

    // The node pair's message first (3 frames of the session are the boot records), then each apartment's.
    const sessions = [{ subject: `${inbox}.mallory`, id: 'e1.1', seq: links.length, link: 0 }, ...links.map((link) => ({ subject: `${inbox}.mallory.e1.1.${link}`, id: `e1.1/${link}`, seq: 0, link }))];
    const part = new Uint8Array(PART_BYTES).fill(7);
    let held = 0;
    for (const session of sessions) {
      for (let i = 0; i < PARTS && !(session.link > 0 && exited(session.link)); i += BATCH) {
        for (let j = i; j < i + BATCH; j++) peer.nc.publish(session.subject, serialize(['mallory', session.id, session.seq++, 'apartment:part', j, [PARTS + 1, part]]));
        // Read once the node holds them, or the session that would have held them has ended.
        const expected = held + (i + BATCH) * PART_BYTES;
        await until(async () => (session.link > 0 && exited(session.link)) || (await b.ask<number>('parts-held')) === expected);
      }
      if (!exited(session.link)) held += PARTS * PART_BYTES;
    }
    expect(await b.ask<number>('parts-held'), 'what mallory holds').to.equal(held);

    // Node a's call carries 4 MiB: parts on its apartment's session, drawn from the same allowance.
    const runtime = await startNodeRuntime(nats.url);
    const probe = await (await runtime.createApartment({ node: 'b' })).createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.size(new Uint8Array(4 * 1_048_576)), "node a's large call").to.equal(4 * 1_048_576);

    // Mallory's node pair and first apartment hold its share; its other two apartments were ended for passing it.
    expect(held, 'two messages of mallory held').to.equal(2 * PARTS * PART_BYTES);
    expect([exited(1), exited(2), exited(3)]).to.deep.equal([false, true, true]);
    await until(() => (b.stderr().match(/\[node-busy\] node 'mallory' sent a message in parts while its sessions with this node already hold 134217728 bytes/g) ?? []).length >= 2);
    expect(b.stderr()).to.contain("its share (half) of this node's allowance of 268435456");
    // The host learns why with each end, not only the node's log.
    for (const link of [2, 3]) {
      const report = peer.frames.find((f) => f[3] === 'apartment:exited' && f[4] === link)?.[5] as { description?: unknown } | undefined;
      expect(report?.description, `why apartment ${link} ended`).to.match(/^the apartment's session ended on node 'b': \[node-busy\] node 'mallory' sent a message in parts .*its share \(half\)/);
    }
    expect((await peer.ask('b', JSON.stringify({ op: 'ping', from: 'mallory', epoch: 'e1', session: 'e1.1', sent: sessions[0]!.seq, links: {} }))).knows, "mallory's node pair session goes on").to.equal(true);
    release(probe);
    await peer.nc.close();
  });
});

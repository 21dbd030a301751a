import { expect } from 'chai';
import { nodeConnectionName, parseDisconnect } from '../../../lib/cluster/disconnect-advisory.js';

const TYPE = 'io.nats.server.advisory.v1.client_disconnect';
const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('lib/cluster/disconnect-advisory: reading the server\'s client-disconnect advisory', () => {
  it('names the node and epoch of a main connection of this cluster, with the reason', () => {
    const name = nodeConnectionName('apartments', 'b', 'e1x');
    expect(parseDisconnect(bytes({ type: TYPE, client: { name, acc: 'APP' }, reason: 'Client Closed' }), 'apartments')).to.deep.equal({ node: 'b', epoch: 'e1x', reason: 'Client Closed' });
    const long = parseDisconnect(bytes({ type: TYPE, client: { name }, reason: 'r'.repeat(1_000) }), 'apartments');
    expect(long!.reason, 'a reason is cut to 200 characters').to.have.length(200);
    expect(parseDisconnect(bytes({ type: TYPE, client: { name } }), 'apartments')!.reason).to.equal('no reason given');
  });

  it("ignores other clusters, apartments' own connections, other clients and other advisories", () => {
    const name = nodeConnectionName('apartments', 'b', 'e1');
    expect(parseDisconnect(bytes({ type: TYPE, client: { name } }), 'prod')).to.equal(undefined);
    expect(parseDisconnect(bytes({ type: TYPE, client: { name: 'apartments apartments.b.e1.a.s1.3' } }), 'apartments')).to.equal(undefined);
    expect(parseDisconnect(bytes({ type: TYPE, client: { name: 'some tool' } }), 'apartments')).to.equal(undefined);
    expect(parseDisconnect(bytes({ type: 'io.nats.server.advisory.v1.client_connect', client: { name } }), 'apartments')).to.equal(undefined);
  });

  it('returns undefined, never throws, for malformed or oversized input', () => {
    const name = nodeConnectionName('apartments', 'b', 'e1');
    const hostile: unknown[] = [
      '', '{', 'null', '[]', '42', '"text"',
      { type: TYPE }, { type: TYPE, client: null }, { type: TYPE, client: { name: 7 } },
      { type: TYPE, client: { name: `${name}.extra` } }, { type: TYPE, client: { name: 'apartments node apartments.b*.e1' } },
      { type: TYPE, client: { name: 'apartments node apartments..e1' } }, { type: TYPE, client: { name: `apartments node apartments.${'b'.repeat(65)}.e1` } },
      { type: TYPE, client: { name }, pad: 'x'.repeat(17_000) },
    ];
    for (const value of hostile) expect(parseDisconnect(bytes(value), 'apartments'), JSON.stringify(value).slice(0, 80)).to.equal(undefined);
    expect(parseDisconnect(new Uint8Array([0xff, 0xfe, 0x00]), 'apartments')).to.equal(undefined);
  });
});

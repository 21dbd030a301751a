import { expect } from 'chai';
import { DisconnectedError, type Apartment, type Remote } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import { startRuntime } from '../fixtures/runtime-fixture.js';

describe('apartments/apartment: the Ready handshake', () => {
  it('serves a call made while the apartment is still starting, once it has said Ready', async () => {
    const { rt } = await startRuntime();
    let seen: string | undefined;
    let early: Promise<Remote<Calc>> | undefined;
    rt.once('apartment-created', (apt: Apartment) => {
      seen = apt.state;
      early = apt.createObject<Calc>('Calc', 1);
    });
    const apt = await rt.createApartment({ name: 'early' });
    expect(seen, 'the call was made before Ready').to.equal('starting');
    expect(apt.state).to.equal('ready');
    const calc = await early!;
    expect(await calc.add(1)).to.equal(2);
  });
});

describe('apartments/apartment: closing', () => {
  it('is closing while it closes, refuses new work then, and ends closed', async () => {
    const { rt } = await startRuntime();
    const apt = await rt.createApartment({ name: 'closing' });
    const closed = apt.close();
    expect(apt.state).to.equal('closing');
    expect(await apt.createObject('Calc').catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
    await closed;
    expect(apt.state).to.equal('closed');
  });
});

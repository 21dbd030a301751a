import { MessageChannel } from 'node:worker_threads';
import { expect } from 'chai';
import { ipcRelayLink } from '../../../marshal/transports/ipc-relay-link.js';

describe('marshal/transports/ipc-relay-link: a relayed end with a taken count', () => {
  it('takes an end without one, and refuses one whose count is not shared memory', () => {
    const { port2 } = new MessageChannel();
    expect(ipcRelayLink.checkEnd({ relay: port2 })).to.equal(undefined);
    expect(ipcRelayLink.checkEnd({ relay: port2, taken: new SharedArrayBuffer(4) })).to.equal(undefined);
    expect(ipcRelayLink.checkEnd({ relay: port2, taken: new ArrayBuffer(4) })).to.contain('shared memory');
    expect(ipcRelayLink.checkEnd({ relay: port2, taken: new SharedArrayBuffer(2) })).to.contain('shared memory');
    port2.close();
  });
});

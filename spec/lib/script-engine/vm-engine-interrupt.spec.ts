// Interrupting a VmScriptEngine's running script from another thread (COM-REFERENCE rule 22): a
// synchronous busy loop is stopped through the main thread's WorkerInterruptService, the call
// fails with CallCanceledError, and the engine stays usable with its global state kept.
import { expect } from 'chai';
import { requestScriptInterrupt } from '../../../lib/script-engine/interrupt-request.js';
import { ScriptRunControl } from '../../../lib/script-engine/run-control.js';
import { WorkerInterruptService } from '../../../lib/script-engine/worker-interrupt-service.js';
import { EngineHost } from './fixtures/engine-host-client.js';

const SCRIPT = `
var laps = 0;
function spin() { laps++; host.tick(0); while (true) {} }
async function spinAfterAwait() { await host.later('x', 1); laps++; host.tick(1); while (true) {} }
function waitLong() { host.tick(2); return host.later('late', 60000); }
function lapCount() { return laps; }
`;

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('lib/script-engine VmScriptEngine: interrupt from another thread', () => {
  let service: WorkerInterruptService;
  let home: EngineHost;
  let other: EngineHost;
  let cells: Int32Array;
  let handle: unknown;
  before(async () => {
    service = await WorkerInterruptService.start();
  });
  after(() => service.close());
  beforeEach(async () => {
    [home, other] = await Promise.all([EngineHost.start(), EngineHost.start()]);
    expect(await service.whenAttached(home.threadId)).to.equal(true);
    cells = new Int32Array(new SharedArrayBuffer(16));
    await home.call('share', cells.buffer);
    await home.call('create');
    await home.call('addHostItem', 0, 'host');
    await home.call('setSite', 0);
    await home.call('parse', 0, SCRIPT);
    await home.call('setState', 0, 'started');
    handle = await home.call('handle', 0);
  });
  afterEach(() => Promise.all([home.terminate(), other.terminate()]));

  it('stops a synchronous while (true) {} from a sibling worker; the engine runs again with its state', async () => {
    const spinning = home.call('invoke', 0, 'spin').catch((e: { name: string; code: string }) => `${e.name}:${e.code}`);
    await until(() => Atomics.load(cells, 0) > 0);
    expect(await other.call('requestInterrupt', handle)).to.equal('terminating');
    expect(await spinning).to.equal('CallCanceledError:RPC_E_CALL_CANCELED');
    expect(await home.call('invoke', 0, 'lapCount')).to.equal(1);
    expect(await home.call('getState', 0)).to.equal('started');
  });

  it('stops a loop that starts after an await, from the main thread', async () => {
    const spinning = home.call('invoke', 0, 'spinAfterAwait').catch((e: { name: string }) => e.name);
    await until(() => Atomics.load(cells, 1) > 0);
    expect(await requestScriptInterrupt(handle as Parameters<typeof requestScriptInterrupt>[0])).to.equal('terminating');
    expect(await spinning).to.equal('CallCanceledError');
    expect(await home.call('invoke', 0, 'lapCount')).to.equal(1);
  });

  it('can interrupt the same engine again after it recovered', async () => {
    for (let round = 1; round <= 2; round++) {
      const spinning = home.call('invoke', 0, 'spin').catch((e: { name: string }) => e.name);
      await until(() => Atomics.load(cells, 0) >= round);
      expect(await other.call('requestInterrupt', handle)).to.equal('terminating');
      expect(await spinning).to.equal('CallCanceledError');
    }
    expect(await home.call('invoke', 0, 'lapCount')).to.equal(2);
  });

  it('cancels a call that waits on an await instead of terminating anything', async () => {
    const waiting = home.call('invoke', 0, 'waitLong').catch((e: { name: string }) => e.name);
    const control = new ScriptRunControl((handle as { control: SharedArrayBuffer }).control);
    await until(() => Atomics.load(cells, 2) > 0 && !control.isRunning() && control.pending() > 0);
    expect(await other.call('requestInterrupt', handle)).to.equal('cancelled');
    expect(await waiting).to.equal('CallCanceledError');
    expect(await home.call('invoke', 0, 'lapCount')).to.equal(0);
  });

  it('answers idle when nothing runs, and touches nothing', async () => {
    expect(await other.call('requestInterrupt', handle)).to.equal('idle');
    expect(await home.call('invoke', 0, 'lapCount')).to.equal(0);
  });
});

// Baseline for an apartment-to-apartment call: two workers joined by a MessageChannel. The 'server'
// answers [id, a, b] with [id, a + b] on its port; the 'client', asked for n calls by the host, makes
// them one after another over its port and replies with their sum.
import { parentPort, type MessagePort } from 'node:worker_threads';

parentPort!.once('message', ({ port, role }: { port: MessagePort; role: 'server' | 'client' }) => {
  if (role === 'server') {
    port.on('message', (m: [number, number, number]) => port.postMessage([m[0], m[1] + m[2]]));
  } else {
    const pending = new Map<number, (v: number) => void>();
    let nextId = 1;
    port.on('message', (m: [number, number]) => {
      const r = pending.get(m[0])!;
      pending.delete(m[0]);
      r(m[1]);
    });
    const sum = (a: number, b: number): Promise<number> => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      port.postMessage([id, a, b]);
    });
    parentPort!.on('message', async (n: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += await sum(i, 1);
      parentPort!.postMessage(s);
    });
  }
  parentPort!.postMessage('ready');
});

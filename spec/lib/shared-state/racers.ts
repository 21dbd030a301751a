// Start a runtime with `n` worker apartments, each hosting a Racer (the shared-state specs' rig).
import type { Remote, Runtime } from '../../../lib/index.js';
import type { Racer } from '../../fixtures/shared-state-classes.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

export async function startRacers(n: number): Promise<{ rt: Runtime; racers: Remote<Racer>[] }> {
  const { rt } = await startRuntime();
  rt.registerClass('Racer', { module: fixture('shared-state-classes.js'), export: 'Racer' });
  const racers: Remote<Racer>[] = [];
  for (let i = 0; i < n; i++) racers.push(await (await rt.createApartment()).createObject<Racer>('Racer'));
  return { rt, racers };
}

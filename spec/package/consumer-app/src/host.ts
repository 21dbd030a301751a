// A host as a user writes it against the installed package. The same source runs compiled by tsc,
// under the tsx loader (calc.js then resolves to calc.ts, in the worker too) and bundled by esbuild.
import { Runtime, callOptions, release } from 'apartment-runtime';
import type { Calc } from './calc.js';

const rt = await Runtime.start();
rt.registerClass('Calc', { module: new URL('./calc.js', import.meta.url), export: 'Calc', threading: 'apartment' });
const apt = await rt.createApartment({ name: 'plugins-1' });
const calc = await apt.createObject<Calc>('Calc', 40);
const sum: number = await calc.add(2, callOptions({ timeoutMs: undefined }));
// history() returns a Tape, which travels by reference: a proxy typed Remote<Tape>.
const tape = await calc.history();
const recorded: number = await tape.length();
console.log(`sum ${sum}, ${recorded} recorded`);
release(tape);
release(calc);
await apt.close();
await rt.close();

// The plugin-host demo (`npm run demo`): two plugins in two apartments, a callback from a plugin
// back to the host, an error crossing apartments, and a release — each step printed as it happens.
import { threadId } from 'node:worker_threads';
import { DisconnectedError, InvalidArgumentError, Runtime, release } from 'apartment-runtime';
import { bindSpellCheckerApi, bindWordCounterApi } from './generated/plugin-interfaces.remote.js';

const say = (text: string): void => console.log(`[host thread ${threadId}] ${text}`);

const rt = await Runtime.start({ logger: (e) => say(`runtime log: ${e.message}`) });
rt.on('apartment-created', (a) => say(`apartment '${a.name}' created (id ${a.id})`));
rt.on('apartment-closed', (a) => say(`apartment '${a.name}' closed`));

rt.registerClass('WordCounter', { module: new URL('./plugins/word-counter.js', import.meta.url), export: 'WordCounter' });
rt.registerClass('SpellChecker', { module: new URL('./plugins/spell-checker.js', import.meta.url), export: 'SpellChecker' });

const counterApt = await rt.createApartment({ name: 'plugin-words' });
const checkerApt = await rt.createApartment({ name: 'plugin-spelling' });
say(`apartments run on worker threads ${counterApt.threadId} and ${checkerApt.threadId}`);

// The plugins' interfaces are compiled by apartment-proxygen: typed proxies, calls by index,
// arguments checked at the plugin's boundary.
const counterRef = await counterApt.createObject('WordCounter');
const counter = await bindWordCounterApi(counterRef);
const checker = await bindSpellCheckerApi(await checkerApt.createObject('SpellChecker'));

const text = 'Apartments keep objects on their own threads';
say(`asking word-counter to count "${text}"; it will call the host back`);
const words = await counter.count(text, async (note) => say(`callback on the host thread: ${note}`));
say(`word-counter answered ${words}`);

const report = await checker.check('Apartments keep objekts on their own threads');
say(`spell-checker (in '${report.apartment}') found unknown words: ${report.unknown.join(', ')}`);

try {
  await checker.check('   ');
} catch (err) {
  const e = err as Error & { plugin?: string };
  say(`an error crossed from the plugin: ${e.name}: ${e.message} (plugin=${e.plugin})`);
  say(`its stack ends with: ${e.stack?.split('\n').at(-1)?.trim()}`);
}

try {
  await (counterRef as unknown as { count(n: number, p: () => Promise<void>): Promise<number> }).count(42, async () => {});
} catch (err) {
  say(`a call with a bad argument is refused at the plugin's boundary: ${(err as Error).name} (parameter '${(err as InvalidArgumentError).parameter}')`);
}

say(`word-counter apartment exports ${(await counterApt.stats()).exports} object(s); releasing our proxy`);
release(counterRef);
await new Promise((r) => setTimeout(r, 20));
say(`word-counter apartment now exports ${(await counterApt.stats()).exports} object(s)`);
try {
  await counter.count('again', async () => {});
} catch (err) {
  say(`calling the released proxy fails: ${(err as Error).name} (${err instanceof DisconnectedError ? (err as DisconnectedError).code : '?'})`);
}

await rt.close();
say('runtime closed');

// Script-engine demo: a host runs user scripts against its own objects. The engine is free-threaded
// until the host sets its site, then bound to the host's apartment; a runaway script is interrupted
// from another apartment and the engine carries on. Run: node dist/docs/demos/script-engine/main.js
import { Runtime, bindScriptEngineApi, byRef, type InvalidArgumentError } from 'apartment-runtime';
import { bindEditorApi } from './generated/editor-api.remote.js';

const say = (text: string): void => console.log(`[script demo] ${text}`);
const rt = await Runtime.start({ logger: () => {} });
rt.registerClass('Editor', { module: new URL('./editor.js', import.meta.url), export: 'Editor' });

const scripts = await rt.createApartment({ name: 'scripts' });
const editor = await bindEditorApi(await (await rt.createApartment({ name: 'editor' })).createObject('Editor'));
// Both interfaces are compiled by apartment-proxygen: typed proxies, calls by index, arguments
// checked at the engine's boundary. The editor gets the engine's reference and binds it itself.
const engineRef = await scripts.createObject('ScriptEngine');
const engine = await bindScriptEngineApi(engineRef);

say(`engine state: ${await engine.getState()} — free-threaded: the editor apartment's call is ${await editor.tryToUse(engineRef)}`);
await engine.setSite(byRef({ host: 'demo' }));
say(`the host set the site: state ${await engine.getState()} — the contract is now apartment: the editor's call is ${await editor.tryToUse(engineRef)}`);
say(`(state queries still work from anywhere: the editor reads '${await editor.state(engineRef)}')`);

const scoreboard = byRef({
  scores: new Map<string, number>(),
  async add(player: string, points: number): Promise<number> {
    const total = (this.scores.get(player) ?? 0) + points;
    this.scores.set(player, total);
    return total;
  },
});
await engine.addNamedItem('scoreboard', scoreboard, { persistent: true });
await engine.parseScriptText(`
  var rounds = 0;
  async function play(player, points) { rounds++; return await scoreboard.add(player, points); }
  function runaway() { rounds++; while (true) {} }
  function played() { return rounds; }
`, { persistent: true });
await engine.setState('started');
const refused = (await (engineRef as unknown as { setState(s: string): Promise<void> }).setState('running').catch((err: unknown) => err)) as InvalidArgumentError;
say(`an unknown state sent past the typed proxy is refused at the engine's boundary: ${refused.name} (parameter '${refused.parameter}')`);
say(`user script calls the host's scoreboard (a proxy in the script): ada has ${await engine.invoke('play', 'ada', 3)}, then ${await engine.invoke('play', 'ada', 4)}`);

// Scripts are untrusted: host values reach them through a membrane, and their bugs come back with a position.
await engine.parseScriptText(`
  function escape() {
    try { return typeof scoreboard.constructor.constructor('return process')(); } catch (e) { return 'refused: ' + e.message; }
  }
  function broken() { return rounds.toFixed(200); }
`);
say(`a script climbing from the scoreboard to the host's Function is ${await engine.invoke('escape')}`);
const bug = (await engine.invoke('broken').catch((err: unknown) => err)) as { name: string; line: number; column: number; message: string };
say(`a script bug comes back as ${bug.name} at line ${bug.line}, column ${bug.column}: ${bug.message}`);

const stuck = engine.invoke('runaway').catch((err: Error) => err.message);
let stopped = false;
while (!stopped) {
  await new Promise((r) => setTimeout(r, 20));
  stopped = await editor.stop(engineRef);
}
say(`a runaway script was interrupted from the editor apartment: ${await stuck}`);
say(`the engine kept its globals and still runs: rounds played so far = ${await engine.invoke('played')}, grace scores ${await engine.invoke('play', 'grace', 5)}`);
await engine.setState('closed');
say(`closed: bound to no apartment again — the editor reads '${await editor.state(engineRef)}', and using it is ${await editor.tryToUse(engineRef)} because it is closed`);
await rt.close();

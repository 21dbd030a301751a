// Custom contract demo: `pinned-ui` (pinned-contract.ts) keeps every UiModel in the apartment named
// 'ui', whether the host creates it or a worker apartment does. Run: node dist/docs/demos/custom-contract/main.js
import { Runtime } from 'apartment-runtime';
import { pinnedUi } from './pinned-contract.js';

const rt = await Runtime.start({ logger: () => {} });
const widgets = new URL('./widgets.js', import.meta.url);
rt.registerClass('UiModel', { module: widgets, export: 'UiModel', threading: pinnedUi.name });
rt.registerClass('Helper', { module: widgets, export: 'Helper' });

const fromHost = await rt.createInstance<{ where(): Promise<string> }>('UiModel');
console.log(`created by the host thread, the UiModel lives in apartment '${await fromHost.where()}'`);

const other = await rt.createApartment({ name: 'background' });
const helper = await other.createObject<{ makeModel(): Promise<{ helperIn: string; modelIn: string }> }>('Helper');
const made = await helper.makeModel();
console.log(`created by a helper in '${made.helperIn}', the UiModel lives in apartment '${made.modelIn}'`);

await rt.close();

// Custom contract demo: `pinned-ui` (pinned-contract.ts) keeps every UiModel in the apartment named
// 'ui', whether the host creates it or a worker apartment does, and lets only the host thread call
// it. Run: node dist/docs/demos/custom-contract/main.js
import { Runtime, type Remote } from 'apartment-runtime';
import { pinnedUi } from './pinned-contract.js';
import type { Helper } from './widgets.js';

const rt = await Runtime.start({ logger: () => {} });
const widgets = new URL('./widgets.js', import.meta.url);
rt.registerClass('UiModel', { module: widgets, export: 'UiModel', threading: pinnedUi.name });
rt.registerClass('Helper', { module: widgets, export: 'Helper' });

const fromHost = await rt.createInstance<{ where(): Promise<string> }>('UiModel');
console.log(`created by the host thread, the UiModel lives in apartment '${await fromHost.where()}'`);

const other = await rt.createApartment({ name: 'background' });
const helper: Remote<Helper> = await other.createObject<Helper>('Helper');
const made = await helper.makeModel();
const model = made.model as unknown as { where(): Promise<string> };
console.log(`created by a helper in '${made.helperIn}', the UiModel lives in apartment '${await model.where()}'`);
console.log(`the helper's own call to it was refused: ${made.refused}`);

await rt.close();

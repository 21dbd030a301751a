import { expect } from 'chai';
import type { DidChangeTextDocumentParams, InitializeParams } from 'vscode-languageserver-protocol';
import { InvalidArgumentError } from '../../../lib/index.js';
import { bindLanguageServerApi } from '../../fixtures/proxygen/generated/lsp-api.remote.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

const initialize: InitializeParams = {
  processId: 4242,
  rootUri: 'file:///projects/app',
  capabilities: { general: { positionEncodings: ['utf-8', 'utf-16'] }, textDocument: { completion: { completionItem: { snippetSupport: true } } } },
  workspaceFolders: [{ uri: 'file:///projects/app', name: 'project' }],
};

const change: DidChangeTextDocumentParams = {
  textDocument: { uri: 'file:///projects/app/a.ts', version: 3 },
  contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, text: 'x' }, { text: 'whole document' }],
};

describe('lib/cli: a language server behind a generated interface, with the LSP package\'s own types', () => {
  it('serves real requests, and refuses malformed ones with the path into the LSP types before they reach the server', async () => {
    const { rt } = await startRuntime();
    rt.registerClass('CheckedServer', { module: fixture('proxygen/lsp-server.js'), export: 'CheckedServer' });
    const server = await bindLanguageServerApi(await (await rt.createApartment({ name: 'lsp' })).createObject('CheckedServer'));
    expect(await server.initialize(initialize)).to.deep.equal({ capabilities: { positionEncoding: 'utf-8' } });
    await server.didChange(change);
    expect(await server.completion({ textDocument: { uri: 'file:///projects/app/a.ts' }, position: { line: 0, character: 1 }, context: { triggerKind: 1 } })).to.deep.equal({ isIncomplete: false, items: [] });
    const js = server as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const bad: [string, unknown, string][] = [
      ['initialize', 42, 'args[0]: expected InitializeParams, got number'],
      ['initialize', { ...initialize, processId: '4242' }, 'args[0].processId: expected null | number, got string'],
      ['initialize', { ...initialize, capabilities: { general: { positionEncodings: ['utf-8', 8] } } }, 'args[0].capabilities.general.positionEncodings[1]: expected string, got number'],
      ['initialize', { ...initialize, workspaceFolders: [{ uri: 'file:///x' }] }, 'args[0].workspaceFolders[0].name: expected string, got undefined'],
      ['didChange', { ...change, textDocument: { uri: 'file:///projects/app/a.ts', version: '3' } }, 'args[0].textDocument.version: expected number, got string'],
      ['didChange', { ...change, contentChanges: [{ text: 1 }] }, 'args[0].contentChanges[0]: expected TextDocumentContentChangeEvent, got object'],
      ['completion', { textDocument: { uri: 'u' }, position: { line: 0, character: 0 }, context: { triggerKind: 9 } }, 'args[0].context.triggerKind: expected CompletionTriggerKind, got number'],
      ['completion', { textDocument: {}, position: { line: 0, character: 0 } }, 'args[0].textDocument.uri: expected string, got undefined'],
    ];
    for (const [method, params, message] of bad) {
      const err = await js[method]!(params).catch((e: unknown) => e);
      expect(err, message).to.be.instanceOf(InvalidArgumentError);
      expect((err as Error).message).to.contain(message);
      expect((err as InvalidArgumentError).parameter).to.equal('params');
    }
    expect(await server.reached(), 'only the three good calls reached the server').to.equal(3);
  });
});

// The Intent extension: registers the language (package.json does) and starts the language
// server, `intent lsp`, over stdio with vscode-languageclient. Plain JavaScript, so the
// extension needs no build step.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('intent').get('server.path', 'intent');
  const serverOptions = {
    run: { command, args: ['lsp'], transport: TransportKind.stdio },
    debug: { command, args: ['lsp'], transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'intent' }, { scheme: 'untitled', language: 'intent' }],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.intent'),
    },
  };
  client = new LanguageClient('intent', 'Intent language server', serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `Intent: could not start \`${command} lsp\` (${err.message}). ` +
        'Install the `intent` program or set `intent.server.path`.'
    );
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

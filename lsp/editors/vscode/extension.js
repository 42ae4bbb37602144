// Starts `alloy lsp` for .alloy files. Everything else (diagnostics, completion, hover,
// navigation, rename, formatting, semantic highlighting, quick fixes) comes from the server.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("alloy").get("server.path", "alloy");
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "alloy",
    "Alloy",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "alloy" }, { scheme: "untitled", language: "alloy" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

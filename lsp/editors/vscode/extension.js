// Starts `alloy lsp` for .alloy files. Everything else (diagnostics, completion, hover,
// navigation, rename, formatting, semantic highlighting, quick fixes) comes from the server.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

// The server's settings (see the README's language server section), from `alloy.*`.
function settings() {
  const c = vscode.workspace.getConfiguration("alloy");
  return {
    stabilityLevel: c.get("stabilityLevel", "generally-available"),
    communityComponents: c.get("communityComponents", false),
    configGrouping: c.get("configGrouping", "auto"),
  };
}

function activate(context) {
  const command = vscode.workspace.getConfiguration("alloy").get("server.path", "alloy");
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "alloy",
    "Alloy",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "alloy" }, { scheme: "untitled", language: "alloy" }],
      initializationOptions: settings(),
    }
  );
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("alloy") && client) {
        client.sendNotification("workspace/didChangeConfiguration", { settings: settings() });
      }
    })
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

// Tokenizes the repository's Alloy fixtures with the grammar (vscode-textmate, as VS Code does)
// and fails on any `invalid.*` token or a file that ends inside a string, comment or bracket.
// The files under fixtures/parser/errors are left out: they are meant to be wrong.
// Usage: node test/corpus.js [FILE...]   (no FILE: every fixtures/**/*.alloy)
"use strict";
const fs = require("fs");
const path = require("path");
const vt = require("vscode-textmate");
const onig = require("vscode-oniguruma");

const root = path.resolve(__dirname, "../../../..");

function alloyFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== path.join(root, "fixtures/parser/errors")) out.push(...alloyFiles(p));
    } else if (e.name.endsWith(".alloy")) {
      out.push(p);
    }
  }
  return out.sort();
}

async function main() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vt.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new onig.OnigScanner(patterns),
      createOnigString: (s) => new onig.OnigString(s),
    }),
    loadGrammar: async (scope) => {
      if (scope !== "source.alloy") return null;
      const file = path.join(__dirname, "../syntaxes/alloy.tmLanguage.json");
      return vt.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  const grammar = await registry.loadGrammar("source.alloy");
  const files = process.argv.length > 2 ? process.argv.slice(2) : alloyFiles(path.join(root, "fixtures"));
  let lines = 0;
  const problems = [];
  for (const file of files) {
    const name = path.relative(process.cwd(), file);
    let stack = vt.INITIAL;
    fs.readFileSync(file, "utf8").split(/\r?\n/).forEach((line, i) => {
      lines++;
      const r = grammar.tokenizeLine(line, stack);
      for (const t of r.tokens) {
        if (t.scopes.some((s) => s.startsWith("invalid"))) {
          const text = JSON.stringify(line.slice(t.startIndex, t.endIndex));
          problems.push(`${name}:${i + 1}:${t.startIndex + 1}: ${text} is ${t.scopes.slice(1).join(" ")}`);
        }
      }
      stack = r.ruleStack;
    });
    // INITIAL plus the top-level pattern list: anything deeper is an open region.
    if (stack.depth > 1) problems.push(`${name}: ends inside an open string, comment, block or bracket`);
  }
  for (const p of problems) console.error(p);
  console.log(`corpus: ${files.length} files, ${lines} lines, ${problems.length} problems`);
  process.exit(problems.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

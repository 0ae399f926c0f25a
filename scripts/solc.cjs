#!/usr/bin/env node
// A solc front end for forge, backed by solc-js (WebAssembly) from npm.
// forge cannot download a native compiler offline, so it is pointed here (`solc = ...` in foundry.toml).
// Only the two calls forge makes are implemented: `--version` and `--standard-json`.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const solc = require("solc");

const args = process.argv.slice(2);

if (args.includes("--version")) {
  // forge parses "Version: <semver>+commit.<hash>..." from this output.
  const full = solc.version(); // e.g. 0.8.37+commit.f401782d.Emscripten.clang
  const [semver, commit] = full.split("+");
  const hash = (commit || "").split(".")[1] || "00000000";
  process.stdout.write(
    `solc, the solidity compiler commandline interface\nVersion: ${semver}+commit.${hash}.Linux.g++\n`,
  );
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("solc shim: only --version and --standard-json are supported\n");
  process.exit(1);
}

// Import roots: --base-path, every --include-path, and --allow-paths entries, then the cwd.
const roots = [];
for (let i = 0; i < args.length; i++) {
  const flag = args[i];
  if (flag === "--base-path" || flag === "--include-path") roots.push(args[++i]);
  else if (flag === "--allow-paths") roots.push(...String(args[++i]).split(","));
}
roots.push(process.cwd());

function findImport(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((root) => path.resolve(root, importPath));
  for (const candidate of candidates) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImport }));

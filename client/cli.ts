#!/usr/bin/env -S npx tsx
// `nova-kms` entry point (`npx tsx client/cli.ts ...`): wires the program to the real process.
import { runCli } from "./cli-program.js";

const code = await runCli(process.argv.slice(2), {
  stdout: (chunk) => void process.stdout.write(chunk),
  stderr: (text) => void process.stderr.write(text),
});
// Let buffered stdout drain (pipes) before choosing the exit code; no process.exit() cut-off.
process.exitCode = code;

// What every `nova-kms` command module shares: the process streams (swappable by tests), the typed
// exit, argument parsers, and reading a command's input from a file or stdin.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { CliUsageError } from "./cli-config.js";
import type { NovaKmsClient } from "./nova-kms-client.js";

export interface CliIo {
  stdout(chunk: string | Uint8Array): void;
  stderr(text: string): void;
  /** All of stdin (plaintext, ciphertext, secret values); default: the process's stdin. */
  stdin?(): Promise<Uint8Array>;
}

/** What a command module gets from the program: the streams and a client built from the global options. */
export interface CommandContext {
  io: CliIo;
  /** The SDK client for the app identity the global options name (required). */
  client(cmd: Command): NovaKmsClient;
  line(text: string): void;
  json(value: unknown): void;
}

/** Ends the command with a specific exit code; `message` (when non-empty) goes to stderr. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Exit code of "the named thing does not exist" (kv get/del, secrets get/delete). */
export const EXIT_NOT_FOUND = 3;

export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}

/** `--label k=v`, repeatable: collected into one object (the node judges the label rules). */
export function labelPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("expected key=value");
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** A 32-byte digest in hex (0x optional), checked here so a typo is a usage error, not a node's 400. */
export function digestArg(value: string): string {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError("expected 32 bytes of hex");
  return value;
}

export function hexArg(value: string): string {
  if (!/^(0x)?([0-9a-fA-F]{2})+$/.test(value)) throw new InvalidArgumentError("expected hex");
  return value;
}

async function processStdin(): Promise<Uint8Array> {
  // A terminal would wait for input the user does not know is wanted.
  if (process.stdin.isTTY) throw new CliUsageError("this command reads its input from stdin: pipe it in, or use --in");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The contents of `file` when given, else all of stdin. */
export async function readInput(io: CliIo, file: string | undefined): Promise<Uint8Array> {
  if (file === undefined) return (io.stdin ?? processStdin)();
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CliUsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Text input (a ciphertext): UTF-8, surrounding whitespace (the newline `encrypt` printed) removed. */
export async function readTextInput(io: CliIo, file: string | undefined): Promise<string> {
  const bytes = await readInput(io, file);
  try {
    return strictUtf8.decode(bytes).trim();
  } catch {
    throw new CliUsageError("input is not UTF-8 text");
  }
}

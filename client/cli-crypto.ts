// `nova-kms encrypt | decrypt | reencrypt | datakey | random`: data in, data out, so they pipe:
//   nova-kms encrypt app-data < secret.bin > secret.nkms
//   nova-kms decrypt < secret.nkms > secret.bin
// encrypt reads raw bytes and prints the `nkms1:` ciphertext on one line; decrypt reads that line
// (surrounding whitespace ignored) and writes the raw plaintext, nothing added.
import type { Command } from "commander";
import { bytesToBase64, bytesToHex } from "../enclave/crypto/bytes.js";
import { type CommandContext, integer, readInput, readTextInput } from "./cli-io.js";

const MAX_RANDOM_BYTES = 1024;

export function addCryptoCommands(program: Command, ctx: CommandContext): void {
  program
    .command("encrypt <key>")
    .description("encrypt stdin (or --in) under a named key; prints the ciphertext")
    .option("--aad <text>", "additional authenticated data (needed again to decrypt)")
    .option("--in <file>", "read the plaintext from a file")
    .action(async (key: string, opts: { aad?: string; in?: string }, cmd: Command) => {
      const plaintext = await readInput(ctx.io, opts.in);
      const result = await ctx.client(cmd).keys.encrypt(key, plaintext, aadOf(opts));
      ctx.line(result.ciphertext);
    });

  program
    .command("decrypt")
    .description("decrypt a ciphertext from stdin (or --in); writes the raw plaintext")
    .option("--aad <text>", "the additional authenticated data given to encrypt")
    .option("--in <file>", "read the ciphertext from a file")
    .action(async (opts: { aad?: string; in?: string }, cmd: Command) => {
      const ciphertext = await readTextInput(ctx.io, opts.in);
      ctx.io.stdout((await ctx.client(cmd).keys.decrypt(ciphertext, aadOf(opts))).plaintext);
    });

  program
    .command("reencrypt")
    .description("re-encrypt a ciphertext from stdin (or --in) under a key's primary version; prints it")
    .option("--key <name>", "the key to encrypt under (default: the ciphertext's own)")
    .option("--aad <text>", "the additional authenticated data (kept)")
    .option("--in <file>", "read the ciphertext from a file")
    .action(async (opts: { key?: string; aad?: string; in?: string }, cmd: Command) => {
      const ciphertext = await readTextInput(ctx.io, opts.in);
      const options = { ...aadOf(opts), ...(opts.key !== undefined ? { key: opts.key } : {}) };
      ctx.line((await ctx.client(cmd).keys.reencrypt(ciphertext, options)).ciphertext);
    });

  program
    .command("datakey <key>")
    .description("a fresh data key and its ciphertext under a named key (JSON; plaintext as base64)")
    .option("--bytes <n>", "data key length (16..64, default 32)", integer(16, 64))
    .option("--aad <text>", "additional authenticated data of the sealed data key")
    .option("--no-plaintext", "only the sealed data key")
    .action(async (key: string, opts: { bytes?: number; aad?: string; plaintext: boolean }, cmd: Command) => {
      const result = await ctx.client(cmd).keys.dataKey(key, {
        ...aadOf(opts),
        ...(opts.bytes !== undefined ? { bytes: opts.bytes } : {}),
        withPlaintext: opts.plaintext,
      });
      ctx.json({
        ciphertext: result.ciphertext,
        ...(result.plaintext ? { plaintext: bytesToBase64(result.plaintext) } : {}),
        version: result.version,
      });
    });

  program
    .command("random")
    .description("random bytes from the node's TEE, printed as base64 (or --hex)")
    .argument("<bytes>", `how many (1..${MAX_RANDOM_BYTES})`, integer(1, MAX_RANDOM_BYTES))
    .option("--hex", "print hex instead of base64")
    .action(async (bytes: number, opts: { hex?: boolean }, cmd: Command) => {
      const random = await ctx.client(cmd).random(bytes);
      ctx.line(opts.hex ? bytesToHex(random) : bytesToBase64(random));
    });
}

function aadOf(opts: { aad?: string }): { aad?: string } {
  return opts.aad !== undefined ? { aad: opts.aad } : {};
}

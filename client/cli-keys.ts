// `nova-kms keys …`: named keys (PROTOCOL.md §12) from the command line. Keys and versions print as
// JSON in the wire's snake_case shape (what PROTOCOL.md and the node's docs show); signatures and MACs
// print as one hex line, public keys as PEM, so each composes with openssl and shell pipes.
// `keys verify` / `verify-mac` print `valid` (exit 0) or `invalid` (exit 1), like `openssl dgst -verify`.
import { type Command, Option } from "commander";
import { CliUsageError } from "./cli-config.js";
import { CliExit, type CommandContext, digestArg, hexArg, integer, labelPair, readInput } from "./cli-io.js";
import {
  KEY_PURPOSES,
  keyJson,
  MAX_ROTATION_PERIOD_DAYS,
  type KeyPurpose,
  versionJson,
} from "../enclave/protocol/key-views.js";
import type { KeyChanges, SignInput } from "./keys-api.js";

const MAX_VERSION = 0xffff_ffff;
const MAX_PAGE_SIZE = 1000;

interface MessageOptions {
  messageFile?: string;
  digest?: string;
}

/** The signed input: a digest, a message file, or (neither given) the message on stdin. */
export async function signInputOf(ctx: CommandContext, opts: MessageOptions): Promise<SignInput> {
  if (opts.digest !== undefined && opts.messageFile !== undefined)
    throw new CliUsageError("give either --digest or --message-file, not both");
  if (opts.digest !== undefined) return { digest: opts.digest };
  return { message: await readInput(ctx.io, opts.messageFile) };
}

const versionArg = integer(1, MAX_VERSION);

function addMessageOptions(cmd: Command): Command {
  return cmd
    .option("--message-file <file>", "the message (default: read from stdin)")
    .option("--digest <hex>", "a 32-byte digest instead of a message (secp256k1, P-256)", digestArg);
}

export function addKeyCommands(program: Command, ctx: CommandContext): void {
  const keys = program.command("keys").description("named keys (PROTOCOL.md §12): create, rotate, sign, …");

  keys
    .command("create <name>")
    .description("create a key (prints the key as JSON)")
    .addOption(new Option("--purpose <purpose>", "what the key is for").choices(KEY_PURPOSES).makeOptionMandatory())
    .option("--rotation-days <n>", "automatic rotation period (0 = manual only)", integer(0, MAX_ROTATION_PERIOD_DAYS))
    .option("--description <text>", "free text")
    .option("--label <key=value>", "a label (repeatable)", labelPair)
    .action(async (name: string, opts: CreateOptions, cmd: Command) => {
      const key = await ctx.client(cmd).keys.create({
        name,
        purpose: opts.purpose,
        ...(opts.rotationDays !== undefined ? { rotationPeriodDays: opts.rotationDays } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(opts.label !== undefined ? { labels: opts.label } : {}),
      });
      ctx.json(keyJson(key));
    });

  keys
    .command("get <name>")
    .description("a key (JSON)")
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      ctx.json(keyJson(await ctx.client(cmd).keys.get(name)));
    });

  keys
    .command("list")
    .alias("ls")
    .description("every key of the app (JSON array; pages followed)")
    .option("--page-size <n>", "keys per request", integer(1, MAX_PAGE_SIZE))
    .action(async (opts: { pageSize?: number }, cmd: Command) => {
      const all = [];
      for await (const key of ctx.client(cmd).keys.listAll(pageOpts(opts))) all.push(keyJson(key));
      ctx.json(all);
    });

  keys
    .command("update <name>")
    .description("change rotation, description, labels or the primary version (JSON)")
    .option("--rotation-days <n>", "automatic rotation period (0 = manual only)", integer(0, MAX_ROTATION_PERIOD_DAYS))
    .option("--description <text>", "free text")
    .option("--label <key=value>", "a label (repeatable; replaces all labels)", labelPair)
    .option("--primary-version <n>", "make this ENABLED version primary", versionArg)
    .action(async (name: string, opts: UpdateOptions, cmd: Command) => {
      const changes: KeyChanges = {
        ...(opts.rotationDays !== undefined ? { rotationPeriodDays: opts.rotationDays } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(opts.label !== undefined ? { labels: opts.label } : {}),
        ...(opts.primaryVersion !== undefined ? { primaryVersion: opts.primaryVersion } : {}),
      };
      if (Object.keys(changes).length === 0) throw new CliUsageError("nothing to update: give at least one option");
      ctx.json(keyJson(await ctx.client(cmd).keys.update(name, changes)));
    });

  keys
    .command("rotate <name>")
    .description("make a new primary version (JSON key)")
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      ctx.json(keyJson(await ctx.client(cmd).keys.rotate(name)));
    });

  keys
    .command("versions <name>")
    .description("every version of a key (JSON array; pages followed)")
    .option("--page-size <n>", "versions per request", integer(1, MAX_PAGE_SIZE))
    .action(async (name: string, opts: { pageSize?: number }, cmd: Command) => {
      const all = [];
      for await (const v of ctx.client(cmd).keys.allVersions(name, pageOpts(opts))) all.push(versionJson(v));
      ctx.json(all);
    });

  keys
    .command("version <name>")
    .argument("<version>", "version number", versionArg)
    .description("one version (JSON)")
    .action(async (name: string, version: number, _opts: unknown, cmd: Command) => {
      ctx.json(versionJson(await ctx.client(cmd).keys.version(name, version)));
    });

  for (const action of ["enable", "disable", "destroy", "restore"] as const) {
    keys
      .command(`${action} <name>`)
      .argument("<version>", "version number", versionArg)
      .description(`${action} a version (JSON version)`)
      .action(async (name: string, version: number, _opts: unknown, cmd: Command) => {
        ctx.json(versionJson(await ctx.client(cmd).keys.changeVersion(name, version, action)));
      });
  }

  keys
    .command("public-key <name>")
    .description("the public key as PEM (--json: with version and, for secp256k1, the address)")
    .option("--version <n>", "a version (default: the primary)", versionArg)
    .option("--json", "print {pem, version, address?} as JSON")
    .action(async (name: string, opts: { version?: number; json?: boolean }, cmd: Command) => {
      const result = await ctx.client(cmd).keys.publicKey(name, opts.version ? { version: opts.version } : {});
      if (opts.json) ctx.json({ pem: result.pem, version: result.version, address: result.address });
      else ctx.io.stdout(result.pem.endsWith("\n") ? result.pem : `${result.pem}\n`);
    });

  addMessageOptions(keys.command("sign <name>").description("sign a message or digest; prints the hex signature"))
    .option("--json", "print {signature, version} as JSON")
    .action(async (name: string, opts: MessageOptions & { json?: boolean }, cmd: Command) => {
      const input = await signInputOf(ctx, opts);
      const result = await ctx.client(cmd).keys.sign(name, input);
      if (opts.json) ctx.json(result);
      else ctx.line(result.signature);
    });

  addMessageOptions(
    keys.command("verify <name>").description("check a signature: prints valid (exit 0) or invalid (1)"),
  )
    .requiredOption("--signature <hex>", "the signature", hexArg)
    .option("--version <n>", "the version that signed (default: any ENABLED one)", versionArg)
    .action(async (name: string, opts: MessageOptions & { signature: string; version?: number }, cmd: Command) => {
      const input = await signInputOf(ctx, opts);
      const versionOpt = opts.version ? { version: opts.version } : {};
      verdict(ctx, await ctx.client(cmd).keys.verify(name, input, opts.signature, versionOpt));
    });

  keys
    .command("mac <name>")
    .description("HMAC-SHA256 of a message (stdin, or --message-file); prints hex")
    .option("--message-file <file>", "the message (default: read from stdin)")
    .action(async (name: string, opts: { messageFile?: string }, cmd: Command) => {
      const message = await readInput(ctx.io, opts.messageFile);
      ctx.line((await ctx.client(cmd).keys.mac(name, message)).mac);
    });

  keys
    .command("verify-mac <name>")
    .description("check a MAC: prints valid (exit 0) or invalid (1)")
    .requiredOption("--mac <hex>", "the MAC", hexArg)
    .option("--message-file <file>", "the message (default: read from stdin)")
    .option("--version <n>", "the version (default: any ENABLED one)", versionArg)
    .action(async (name: string, opts: { mac: string; messageFile?: string; version?: number }, cmd: Command) => {
      const message = await readInput(ctx.io, opts.messageFile);
      const versionOpt = opts.version ? { version: opts.version } : {};
      verdict(ctx, await ctx.client(cmd).keys.verifyMac(name, message, opts.mac, versionOpt));
    });

  keys
    .command("decrypt-asymmetric <name>")
    .argument("<version>", "version number", versionArg)
    .description("decrypt RSA-OAEP/SHA-256 ciphertext bytes (stdin or --in) with a decrypt-rsa key; raw plaintext")
    .option("--in <file>", "read the ciphertext bytes from a file")
    .action(async (name: string, version: number, opts: { in?: string }, cmd: Command) => {
      const ciphertext = await readInput(ctx.io, opts.in);
      ctx.io.stdout(await ctx.client(cmd).keys.decryptAsymmetric(name, version, ciphertext));
    });
}

interface CreateOptions {
  purpose: KeyPurpose;
  rotationDays?: number;
  description?: string;
  label?: Record<string, string>;
}

interface UpdateOptions {
  rotationDays?: number;
  description?: string;
  label?: Record<string, string>;
  primaryVersion?: number;
}

function pageOpts(opts: { pageSize?: number }): { pageSize?: number } {
  return opts.pageSize ? { pageSize: opts.pageSize } : {};
}

function verdict(ctx: CommandContext, valid: boolean): void {
  ctx.line(valid ? "valid" : "invalid");
  if (!valid) throw new CliExit(1, "");
}

// `nova-kms secrets …`: the app's versioned secrets (PROTOCOL.md §12). `put` takes the value from
// stdin (or --value / --in) so it stays out of shell history; `get` writes the raw value, nothing
// added, so `nova-kms secrets get db-password | some-tool` passes it on exactly. A missing secret
// exits 3, like a missing KV key.
import type { Command } from "commander";
import { bytesToBase64 } from "../enclave/crypto/bytes.js";
import { CliUsageError } from "./cli-config.js";
import { CliExit, type CommandContext, EXIT_NOT_FOUND, integer, readInput } from "./cli-io.js";
import { KmsRequestError } from "./errors.js";

const MAX_PAGE_SIZE = 1000;

/** Runs `op`, turning the node's 404 into exit 3 with a short message. */
async function orNotFound<T>(name: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (e instanceof KmsRequestError && e.status === 404) throw new CliExit(EXIT_NOT_FOUND, `not found: ${name}`);
    throw e;
  }
}

export function addSecretCommands(program: Command, ctx: CommandContext): void {
  const secrets = program.command("secrets").description("the app's versioned secrets (PROTOCOL.md §12)");

  secrets
    .command("put <name>")
    .description("store a new version (value from stdin, --in or --value); prints {name, version}")
    .option("--value <text>", "the value as UTF-8 text (visible in shell history and ps)")
    .option("--in <file>", "read the value from a file")
    .action(async (name: string, opts: { value?: string; in?: string }, cmd: Command) => {
      if (opts.value !== undefined && opts.in !== undefined) throw new CliUsageError("give either --value or --in");
      const value = opts.value ?? (await readInput(ctx.io, opts.in));
      ctx.json(await ctx.client(cmd).secrets.put(name, value));
    });

  secrets
    .command("get <name>")
    .description("write a secret's value (latest, or --version) raw to stdout; exit 3 when absent")
    .option("--version <n>", "a version", integer(1, 0xffff_ffff))
    .option("--base64", "print the value as base64")
    .action(async (name: string, opts: { version?: number; base64?: boolean }, cmd: Command) => {
      const options = opts.version ? { version: opts.version } : {};
      const found = await orNotFound(name, () => ctx.client(cmd).secrets.get(name, options));
      if (opts.base64) ctx.line(bytesToBase64(found.value));
      else ctx.io.stdout(found.value);
    });

  secrets
    .command("list")
    .alias("ls")
    .description("every secret: name, latest_version, updated_at_ms (JSON array; pages followed)")
    .option("--page-size <n>", "secrets per request", integer(1, MAX_PAGE_SIZE))
    .action(async (opts: { pageSize?: number }, cmd: Command) => {
      const all = [];
      const pageSize = opts.pageSize ? { pageSize: opts.pageSize } : {};
      for await (const s of ctx.client(cmd).secrets.listAll(pageSize)) {
        all.push({ name: s.name, latest_version: s.latestVersion, updated_at_ms: s.updatedAtMs });
      }
      ctx.json(all);
    });

  secrets
    .command("delete <name>")
    .alias("del")
    .description("delete every version; exit 3 when absent")
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await orNotFound(name, () => ctx.client(cmd).secrets.delete(name));
      ctx.line(`deleted ${name}`);
    });
}

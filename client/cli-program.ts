// The `nova-kms` command line: the SDK's calls as commands, for humans and scripts. Output is the
// bare result (a key, a value, a PEM) so it composes in pipes; diagnostics go to stderr as one line.
// Exit codes: 0 ok, 1 failure (and `invalid` from keys verify), 2 usage error, 3 not found (kv
// get/del, secrets get/delete). Named keys, crypto and secrets commands live in cli-keys.ts,
// cli-crypto.ts and cli-secrets.ts; this file builds the program and the client they share.
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { RegistryReader } from "../enclave/chain/registry-reader.js";
import { base64ToBytes, bytesToBase64, bytesToHex } from "../enclave/crypto/bytes.js";
import { SimulatedTee } from "../enclave/tee/simulated.js";
import {
  CLI_LABELS,
  CliUsageError,
  DEFAULT_DEPLOYMENT_FILE,
  resolveChainTarget,
  type GlobalOptions,
} from "./cli-config.js";
import { addCryptoCommands } from "./cli-crypto.js";
import { CliExit, type CliIo as StreamIo, type CommandContext, integer } from "./cli-io.js";
import { addKeyCommands } from "./cli-keys.js";
import { addSecretCommands } from "./cli-secrets.js";
import { describeNode } from "./discovery.js";
import { KmsClientError, KmsRequestError, KmsResponseVerificationError, KmsTransportError } from "./errors.js";
import { NovaKmsClient } from "./nova-kms-client.js";

export interface CliIo extends StreamIo {
  /** Builds the SDK client from the global options; tests swap in one on an in-memory registry. */
  makeClient?(options: GlobalOptions, tee: SimulatedTee): NovaKmsClient;
}

function defaultClient(options: GlobalOptions, tee: SimulatedTee): NovaKmsClient {
  const chain = resolveChainTarget(options);
  const registry = RegistryReader.fromRpcUrl(chain.rpcUrl, {
    novaAppRegistry: chain.novaAppRegistry,
    kmsRegistry: chain.kmsRegistry,
  });
  return new NovaKmsClient({
    tee,
    registry,
    kmsAppId: chain.kmsAppId,
    allowHttp: options.allowHttp ?? false,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.label ? { label: options.label } : {}),
  });
}

function envelopeLabel(value: string) {
  const label = CLI_LABELS[value];
  if (!label) throw new InvalidArgumentError(`expected one of ${Object.keys(CLI_LABELS).join(", ")}`);
  return label;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command("nova-kms")
    .description(
      "Nova KMS client: derive keys, use the KV store, the CA, named keys and secrets as a registered Nova app",
    )
    .option("--rpc <url>", "chain RPC URL (default: from the deployment file)")
    .option("--registry <address>", "NovaAppRegistry address (default: from the deployment file)")
    .option("--kms-app-id <id>", "app id of the KMS cluster (default: from the deployment file)")
    .option("--deployment <path>", "dev chain deployment file", DEFAULT_DEPLOYMENT_FILE)
    .option("--app-seed <seed>", "simulated app identity (SimulatedTee seed); simulation only")
    .option("--allow-http", "accept http:// node URLs (simulation on loopback only)")
    .option("--timeout-ms <n>", "per-node timeout of one call", integer(1, 600_000))
    .option(
      "--label <runtime>",
      "envelope label: capsule (current Nova runtime, default) or enclaver (earlier)",
      envelopeLabel,
    )
    // Global options go before the command, so a command may reuse a global's name for its own
    // meaning: `keys create --label team=x` (a key label) vs the global `--label enclaver`.
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });

  // The root program's options only: a command's option of the same name (a key's `--label`) is the
  // command's, and must not stand in for the global one, as optsWithGlobals would let it.
  const globals = (cmd: Command) => {
    let root = cmd;
    while (root.parent) root = root.parent;
    return root.opts<GlobalOptions>();
  };
  const client = (cmd: Command, needIdentity: boolean) => {
    const options = globals(cmd);
    if (needIdentity && !options.appSeed) {
      throw new CliUsageError(
        "--app-seed is required: the app's identity, which must be registered on chain as an ACTIVE, zkVerified instance",
      );
    }
    // Public commands still need some identity object for the SDK; a throwaway one signs nothing.
    const tee = new SimulatedTee(options.appSeed ? { seed: options.appSeed } : {});
    return (io.makeClient ?? defaultClient)(options, tee);
  };
  const line = (text: string) => io.stdout(`${text}\n`);
  const context: CommandContext = {
    io,
    client: (cmd) => client(cmd, true),
    line,
    json: (value) => line(JSON.stringify(value, null, 2)),
  };

  program
    .command("derive <path>")
    .description("derive an app key (printed as base64, or hex with --hex)")
    .option("--context <context>", "derivation context")
    .option("--length <n>", "key length in bytes (1..1024, default 32)", integer(1, 1024))
    .option("--hex", "print hex instead of base64")
    .action(async (path: string, opts: { context?: string; length?: number; hex?: boolean }, cmd: Command) => {
      const result = await client(cmd, true).derive({
        path,
        ...(opts.context !== undefined ? { context: opts.context } : {}),
        ...(opts.length ? { length: opts.length } : {}),
      });
      line(opts.hex ? bytesToHex(result.key) : bytesToBase64(result.key));
    });

  const kv = program.command("kv").description("the app's replicated key-value store");
  kv.command("get <key>")
    .description("print a value (raw bytes, or base64 with --base64); exit 3 when absent")
    .option("--base64", "print the value as base64")
    .action(async (key: string, opts: { base64?: boolean }, cmd: Command) => {
      const entry = await client(cmd, true).kv.get(key);
      if (!entry) throw new CliExit(3, `not found: ${key}`);
      if (opts.base64) line(bytesToBase64(entry.value));
      else io.stdout(entry.value);
    });
  kv.command("put <key> <value>")
    .description("store a value (UTF-8 text, or bytes given as base64 with --base64)")
    .option("--ttl-ms <n>", "expire after this many milliseconds (0 = never)", integer(0, Number.MAX_SAFE_INTEGER))
    .option("--base64", "the value is base64-encoded bytes")
    .action(async (key: string, value: string, opts: { ttlMs?: number; base64?: boolean }, cmd: Command) => {
      let bytes: Uint8Array | string = value;
      if (opts.base64) {
        try {
          bytes = base64ToBytes(value);
        } catch {
          throw new CliUsageError("value is not standard base64");
        }
      }
      const result = await client(cmd, true).kv.put(key, bytes, opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {});
      line(`stored ${result.key} (updated_at_ms ${result.updatedAtMs})`);
    });
  kv.command("del <key>")
    .alias("delete")
    .description("delete a value; exit 3 when absent")
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      if (!(await client(cmd, true).kv.delete(key))) throw new CliExit(3, `not found: ${key}`);
      line(`deleted ${key}`);
    });
  kv.command("ls")
    .alias("list")
    .description("list the app's keys, one per line")
    .action(async (_opts: unknown, cmd: Command) => {
      for (const key of await client(cmd, true).kv.list()) line(key);
    });

  program
    .command("cert")
    .description("have the cluster CA sign a CSR; prints the certificate PEM")
    .requiredOption("--csr <file>", "PEM certificate signing request")
    .option("--days <n>", "validity in days", integer(1, 36_500))
    .option("--chain", "append the CA certificate")
    .action(async (opts: { csr: string; days?: number; chain?: boolean }, cmd: Command) => {
      let csrPem: string;
      try {
        csrPem = readFileSync(opts.csr, "utf8");
      } catch (e) {
        throw new CliUsageError(`cannot read CSR file ${opts.csr}: ${(e as Error).message}`);
      }
      const cert = await client(cmd, true).signCert({ csrPem, ...(opts.days ? { validityDays: opts.days } : {}) });
      io.stdout(cert.certificatePem.endsWith("\n") ? cert.certificatePem : `${cert.certificatePem}\n`);
      if (opts.chain)
        io.stdout(cert.caCertificatePem.endsWith("\n") ? cert.caCertificatePem : `${cert.caCertificatePem}\n`);
    });

  program
    .command("ca")
    .description("print the cluster CA certificate (public /kms/ca)")
    .action(async (_opts: unknown, cmd: Command) => {
      const pem = await client(cmd, false).ca();
      io.stdout(pem.endsWith("\n") ? pem : `${pem}\n`);
    });

  program
    .command("status")
    .description("self-reported /status (PROTOCOL.md §9 shape) of one node (--url) or of every registered node (JSON)")
    .option("--url <url>", "node base URL")
    .action(async (opts: { url?: string }, cmd: Command) => {
      const kms = client(cmd, false);
      if (opts.url) {
        line(JSON.stringify(await kms.status(opts.url), null, 2));
        return;
      }
      const nodes = await kms.nodes();
      const views = await Promise.all(
        nodes.map(async (node) => {
          try {
            return { url: node.url, wallet: node.wallet, status: await kms.status(node) };
          } catch (e) {
            return { url: node.url, wallet: node.wallet, error: (e as Error).message };
          }
        }),
      );
      line(JSON.stringify(views, null, 2));
    });

  program
    .command("nodes")
    .description("KMS nodes registered on chain that the client would use (JSON)")
    .action(async (_opts: unknown, cmd: Command) => {
      line(JSON.stringify((await client(cmd, false).nodes()).map(describeNode), null, 2));
    });

  addKeyCommands(program, context);
  addCryptoCommands(program, context);
  addSecretCommands(program, context);
  return program;
}

/** One line that says what went wrong and where, without a stack. */
export function describeError(e: unknown): string {
  if (e instanceof KmsRequestError) return `${e.node} answered ${e.status} ${e.code}: ${e.message}`;
  if (e instanceof KmsTransportError || e instanceof KmsResponseVerificationError || e instanceof KmsClientError) {
    const tried = e.attempts.length > 1 ? ` (tried ${e.attempts.length} nodes)` : "";
    return `${e.message}${tried}`;
  }
  if (e instanceof Error) return (e.message.split("\n")[0] ?? e.name).trim();
  return String(e);
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof CliExit) {
      if (e.message) io.stderr(`nova-kms: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr(`nova-kms: ${describeError(e)}\n`);
    if (e instanceof CliUsageError) return 2;
    return 1;
  }
}

// What bench/derive.ts, bench/kv.ts and bench/keys.ts share: flags, the node + baseline setup in the
// right order, and a clean teardown on every path (errors and Ctrl-C included).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseFlags, positiveNumber, type FlagSpec } from "../lib/args.js";
import { measureEchoBaseline, type EchoBaseline } from "./baseline.js";
import type { ClientMode } from "./app-channel.js";
import { startBenchNode, type BenchNode } from "./kms-node.js";

export interface HttpBenchSettings {
  durationMs: number;
  warmupMs: number;
  concurrency: number;
  client: ClientMode;
  /** Directory for the node's V8 CPU profile, when asked for. */
  cpuProfDir: string | undefined;
}

/** The common flags, plus `extra` ones a benchmark adds (their values come back in `extra`). */
export function readSettings<E extends FlagSpec = Record<never, never>>(
  usage: string,
  extra?: E,
): HttpBenchSettings & { extra: { [K in keyof E]: string } } {
  const f = parseFlags(
    process.argv.slice(2),
    {
      duration: { default: "10", help: "seconds measured per phase (after the warm-up)" },
      warmup: { default: "2", help: "seconds of untimed load before each phase" },
      concurrency: { default: "32", help: "concurrent operation loops (and connections)" },
      client: {
        default: "direct",
        help: "direct (undici Pool + enclave/crypto) or sdk (client/signed-request.ts over undici fetch)",
      },
      "cpu-prof": { default: "", help: "write a V8 CPU profile of the node process into this directory" },
      ...extra,
    },
    usage,
  );
  if (f.client !== "direct" && f.client !== "sdk") throw new Error(`--client must be direct or sdk, got ${f.client}`);
  return {
    durationMs: positiveNumber(f.duration, "duration") * 1000,
    warmupMs: Number(f.warmup) >= 0 ? Number(f.warmup) * 1000 : 2000,
    concurrency: Math.round(positiveNumber(f.concurrency, "concurrency")),
    client: f.client,
    cpuProfDir: f["cpu-prof"] ? path.resolve(f["cpu-prof"]) : undefined,
    extra: Object.fromEntries(Object.keys(extra ?? {}).map((k) => [k, (f as Record<string, string>)[k]])) as {
      [K in keyof E]: string;
    },
  };
}

/** Starts the node, measures the echo baseline, runs `body`, and always tears everything down. */
export async function withBenchNode(
  settings: HttpBenchSettings,
  body: (node: BenchNode, baseline: EchoBaseline) => Promise<void>,
): Promise<void> {
  await withKmsNode(settings, async (node) => {
    // Measured while the node idles, in the same run, with the same connection count and duration.
    const baseline = await measureEchoBaseline({
      connections: settings.concurrency,
      seconds: settings.durationMs / 1000,
      warmupSeconds: settings.warmupMs / 1000,
    });
    await body(node, baseline);
  });
}

/** Starts the node (with --cpu-prof when asked), runs `body`, and always tears everything down. */
export async function withKmsNode(
  settings: HttpBenchSettings,
  body: (node: BenchNode) => Promise<void>,
): Promise<void> {
  const nodeArgs: string[] = [];
  if (settings.cpuProfDir) {
    mkdirSync(settings.cpuProfDir, { recursive: true });
    nodeArgs.push("--cpu-prof", "--cpu-prof-dir", settings.cpuProfDir);
  }
  const node = await startBenchNode({ nodeArgs });
  try {
    await body(node);
  } finally {
    await node.stop();
    if (settings.cpuProfDir) process.stderr.write(`node CPU profile written to ${settings.cpuProfDir}\n`);
  }
}

/** Runs `main`, reporting a failure on stderr with exit code 1 (children are killed by the exit hook). */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

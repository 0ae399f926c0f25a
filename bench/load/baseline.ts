// The in-run baseline of the HTTP benchmarks (DESIGN.md "Performance"): the hono JSON echo server
// in its own process, loaded by autocannon in another (32 connections), CPU of the server read
// from /proc like the node's. Both load generators therefore pay their own way on the same 2 cores.
import { createRequire } from "node:module";
import path from "node:path";
import { REPO_ROOT } from "../../scripts/devchain/paths.js";
import { processCpuMs } from "../lib/proc-cpu.js";
import { runToCompletion, spawnChild, waitForLine } from "./child.js";

export interface EchoBaseline {
  reqPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Server CPU per request: what a do-nothing hono request costs, next to node_cpu_ms_per_op. */
  serverCpuMsPerReq: number;
  errors: number;
}

const autocannonBin = path.join(
  path.dirname(createRequire(import.meta.url).resolve("autocannon/package.json")),
  "autocannon.js",
);

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
  duration: number;
}

async function autocannon(url: string, connections: number, seconds: number): Promise<AutocannonJson> {
  const args = [
    autocannonBin,
    "-j",
    "-c",
    String(connections),
    "-d",
    String(seconds),
    "-m",
    "POST",
    "-H",
    "content-type=application/json",
    "-b",
    JSON.stringify({ path: "bench/echo", context: "baseline", length: 32 }),
    url,
  ];
  const lines = await runToCompletion(spawnChild("autocannon", process.execPath, args));
  const json = lines.map((l) => l.trim()).find((l) => l.startsWith("{"));
  if (!json) throw new Error(`autocannon printed no JSON result:\n${lines.join("\n")}`);
  return JSON.parse(json) as AutocannonJson;
}

/** Starts the echo server, warms it up, measures `seconds` at `connections`, stops it. */
export async function measureEchoBaseline(opts: {
  connections: number;
  seconds: number;
  warmupSeconds: number;
}): Promise<EchoBaseline> {
  const server = spawnChild(
    "echo server",
    process.execPath,
    ["--import", "tsx", path.join(REPO_ROOT, "bench/load/echo-server.ts")],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: "0" },
    },
  );
  try {
    const port = await waitForLine(
      server,
      (l) => (l.startsWith('{"listening"') ? (JSON.parse(l) as { listening: number }).listening : undefined),
      20_000,
      "the listening line",
    );
    const url = `http://127.0.0.1:${port}/echo`;
    const seconds = Math.max(1, Math.round(opts.seconds));
    if (opts.warmupSeconds > 0) await autocannon(url, opts.connections, Math.max(1, Math.round(opts.warmupSeconds)));
    const cpu0 = processCpuMs(server.pid);
    const r = await autocannon(url, opts.connections, seconds);
    const cpu1 = processCpuMs(server.pid);
    return {
      reqPerSec: r.requests.total / (r.duration || seconds),
      latencyP50Ms: r.latency.p50,
      latencyP99Ms: r.latency.p99,
      serverCpuMsPerReq: r.requests.total > 0 ? (cpu1 - cpu0) / r.requests.total : Number.NaN,
      errors: r.errors + r.non2xx,
    };
  } finally {
    await server.stop();
  }
}

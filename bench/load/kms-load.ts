// Load generator process for the KMS benchmarks: `concurrency` loops, each doing one complete
// authenticated operation after another (nonce + signed, sealed call + checked, opened response).
// It runs in its own process so its CPU is its own; it reads the node's CPU from /proc at the exact
// edges of each measuring window. Prints one JSON line per phase on stdout.
// Run by bench/derive.ts, bench/kv.ts and bench/keys.ts: node --import tsx bench/load/kms-load.ts '<LoadJob JSON>'
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { bytesToBase64 } from "../../enclave/crypto/bytes.js";
import { percentile } from "../lib/percentile.js";
import { machineBusyCpuMs, ownCpuMs, processCpuTimes } from "../lib/proc-cpu.js";
import { openAppChannel, type AppChannel, type ClientMode } from "./app-channel.js";
import type { LoadTarget } from "./kms-node.js";

export type LoadOp = "derive" | "put" | "get" | "encrypt" | "decrypt";

export interface LoadPhase {
  op: LoadOp;
  warmupMs: number;
  durationMs: number;
}

export interface LoadJob {
  target: LoadTarget;
  concurrency: number;
  client: ClientMode;
  /** Distinct KV keys the put phase cycles through and the get phase reads back. */
  keys: number;
  valueBytes: number;
  phases: LoadPhase[];
  /**
   * The named key that encrypt and decrypt phases use (PROTOCOL.md §12): created (purpose encrypt)
   * before the first phase; plaintexts of `plaintextBytes` random bytes.
   */
  namedKey?: { name: string; plaintextBytes: number };
  /** Also return each phase's latencies (ms), so phases of one op can be pooled exactly. */
  returnLatencies?: boolean;
}

export interface PhaseResult {
  op: LoadOp;
  ops: number;
  seconds: number;
  opsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  warmupErrors: number;
  errorSamples: string[];
  clientCpuMsPerOp: number;
  nodeCpuMsPerOp: number;
  /** The kernel's share of nodeCpuMsPerOp (socket reads and writes, loopback TCP). */
  nodeSystemCpuMsPerOp: number;
  /** Share of the machine (all cores, %) used by processes other than the node and this generator. */
  othersCpuPercent: number;
  /** Every completed operation's latency (ms, 0.01 ms resolution), when the job asked for them. */
  latencies?: number[];
}

const keyName = (i: number) => `bench-${i.toString().padStart(6, "0")}`;

/** Distinct plaintexts an encrypt phase cycles through, and ciphertexts a decrypt phase reads back. */
const PLAINTEXTS = 16;
const SEALED_KEPT = 1024;
const SEALED_BEFORE_PHASES = 64;

interface Sealed {
  ciphertext: string;
  plaintext: string;
}

class Workload {
  private puts = 0;
  private readonly value: string;
  private readonly plaintexts: string[];
  /** Recent encrypt results (a ring): what decrypt opens and checks. */
  private readonly sealed: Sealed[] = [];
  private sealedCount = 0;

  constructor(private readonly job: LoadJob) {
    this.value = bytesToBase64(new Uint8Array(randomBytes(job.valueBytes)));
    const bytes = job.namedKey?.plaintextBytes ?? 0;
    this.plaintexts = Array.from({ length: PLAINTEXTS }, () => bytesToBase64(new Uint8Array(randomBytes(bytes))));
  }

  /** Untimed setup: the named key, and ciphertexts for a decrypt phase that runs before any encrypt. */
  async prepare(channel: AppChannel): Promise<void> {
    if (!this.job.phases.some((p) => p.op === "encrypt" || p.op === "decrypt")) return;
    const named = this.job.namedKey;
    if (!named) throw new Error("encrypt/decrypt phases need job.namedKey");
    const made = (await channel.call("POST", "/kms/keys", { name: named.name, purpose: "encrypt" })) as {
      name?: unknown;
      primary_version?: unknown;
    };
    if (made.name !== named.name || made.primary_version !== 1)
      throw new Error(`unexpected create answer ${JSON.stringify(made).slice(0, 200)}`);
    for (let i = 0; i < SEALED_BEFORE_PHASES; i++) await this.run(channel, "encrypt", i);
  }

  /** One operation; throws when the answer is wrong, not only when the call fails. */
  async run(channel: AppChannel, op: LoadOp, i: number): Promise<void> {
    if (op === "derive") {
      // A handful of paths: the node derives on every call (nothing to cache), like a real app.
      const path = `bench/key-${i % 16}`;
      const out = (await channel.call("POST", "/kms/derive", { path, length: 32 })) as {
        key?: unknown;
        path?: unknown;
      };
      if (typeof out.key !== "string" || out.path !== path)
        throw new Error(`unexpected derive answer ${JSON.stringify(out).slice(0, 200)}`);
    } else if (op === "encrypt") {
      const name = this.job.namedKey!.name;
      const plaintext = this.plaintexts[i % PLAINTEXTS]!;
      const out = (await channel.call("POST", `/kms/keys/${name}/encrypt`, { plaintext })) as {
        ciphertext?: unknown;
        version?: unknown;
      };
      if (typeof out.ciphertext !== "string" || !out.ciphertext.startsWith("nkms1:") || out.version !== 1)
        throw new Error(`unexpected encrypt answer ${JSON.stringify(out).slice(0, 200)}`);
      this.sealed[this.sealedCount++ % SEALED_KEPT] = { ciphertext: out.ciphertext, plaintext };
    } else if (op === "decrypt") {
      // Ciphertexts this node made (prepare, or an earlier encrypt phase): each must open to its plaintext.
      const entry = this.sealed[i % this.sealed.length]!;
      const out = (await channel.call("POST", "/kms/decrypt", { ciphertext: entry.ciphertext })) as {
        plaintext?: unknown;
        key?: unknown;
        version?: unknown;
      };
      if (out.plaintext !== entry.plaintext || out.key !== this.job.namedKey!.name || out.version !== 1)
        throw new Error(`unexpected decrypt answer ${JSON.stringify(out).slice(0, 200)}`);
    } else if (op === "put") {
      const key = keyName(this.puts++ % this.job.keys);
      const out = (await channel.call("PUT", "/kms/data", { key, value: this.value })) as { key?: unknown };
      if (out.key !== key) throw new Error(`unexpected put answer ${JSON.stringify(out).slice(0, 200)}`);
    } else {
      // Only keys the put phase wrote, so every read is a hit (a 404 counts as an error).
      const written = Math.min(this.puts, this.job.keys) || this.job.keys;
      const key = keyName(Math.floor(Math.random() * written));
      const out = (await channel.call("GET", `/kms/data/${encodeURIComponent(key)}`)) as { value?: unknown };
      if (out.value !== this.value) throw new Error(`unexpected get answer ${JSON.stringify(out).slice(0, 200)}`);
    }
  }
}

async function runPhase(job: LoadJob, channel: AppChannel, workload: Workload, phase: LoadPhase): Promise<PhaseResult> {
  type State = "warmup" | "measure" | "done";
  let state: State = "warmup";
  let t0 = 0;
  let t1 = 0;
  let ops = 0;
  let errors = 0;
  let warmupErrors = 0;
  const errorSamples: string[] = [];
  const latencies: number[] = [];
  const cpu = {
    client0: 0,
    client1: 0,
    node0: { userMs: 0, systemMs: 0 },
    node1: { userMs: 0, systemMs: 0 },
    machine0: 0,
    machine1: 0,
  };
  let counter = 0;

  const loop = async () => {
    while (state !== "done") {
      const i = counter++;
      const start = performance.now();
      let failed: unknown;
      try {
        await workload.run(channel, phase.op, i);
      } catch (e) {
        failed = e;
      }
      const end = performance.now();
      // Whatever completes inside the window counts: the window is what both CPU readings span.
      if (state !== "measure" || end > t1) {
        if (failed && state === "warmup") warmupErrors++;
        continue;
      }
      if (failed) {
        errors++;
        if (errorSamples.length < 3) errorSamples.push(String((failed as Error).message ?? failed).slice(0, 300));
      } else {
        ops++;
        latencies.push(end - start);
      }
    }
  };

  const loops = Array.from({ length: job.concurrency }, loop);
  await new Promise((r) => setTimeout(r, phase.warmupMs));
  cpu.client0 = ownCpuMs();
  cpu.node0 = processCpuTimes(job.target.nodePid);
  cpu.machine0 = machineBusyCpuMs();
  t0 = performance.now();
  t1 = t0 + phase.durationMs;
  state = "measure";
  await new Promise((r) => setTimeout(r, phase.durationMs));
  cpu.machine1 = machineBusyCpuMs();
  cpu.node1 = processCpuTimes(job.target.nodePid);
  cpu.client1 = ownCpuMs();
  const seconds = (performance.now() - t0) / 1000;
  const nodeMs = cpu.node1.userMs + cpu.node1.systemMs - cpu.node0.userMs - cpu.node0.systemMs;
  const othersMs = cpu.machine1 - cpu.machine0 - nodeMs - (cpu.client1 - cpu.client0);
  state = "done";
  await Promise.all(loops);

  return {
    op: phase.op,
    ops,
    seconds,
    opsPerSec: ops / seconds,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
    errors,
    warmupErrors,
    errorSamples,
    clientCpuMsPerOp: (cpu.client1 - cpu.client0) / Math.max(ops, 1),
    nodeCpuMsPerOp: nodeMs / Math.max(ops, 1),
    nodeSystemCpuMsPerOp: (cpu.node1.systemMs - cpu.node0.systemMs) / Math.max(ops, 1),
    othersCpuPercent: Math.max(0, (100 * othersMs) / (seconds * 1000 * availableParallelism())),
    ...(job.returnLatencies ? { latencies: latencies.map((l) => Math.round(l * 100) / 100) } : {}),
  };
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (!raw) throw new Error("usage: kms-load.ts '<LoadJob JSON>'");
  const job = JSON.parse(raw) as LoadJob;
  const channel = await openAppChannel(job.target, job.concurrency, job.client);
  try {
    const workload = new Workload(job);
    await workload.prepare(channel);
    for (const phase of job.phases) {
      const result = await runPhase(job, channel, workload, phase);
      process.stdout.write(`${JSON.stringify({ phase: result })}\n`);
    }
  } finally {
    await channel.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`load generator: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);

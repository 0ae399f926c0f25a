// The in-process half of bench/keys.ts (no HTTP, no chain): the node's real key stack wired as a
// one-node cluster — KvStore (enclave/store/kv-store.ts) + KeyRecords + ClusterCommits + NamedKeys,
// as enclave/node.ts builds them, with no peers — measured for
//   create / rotate   keys/s through NamedKeys (lease, records, wrap, commit), sequentially;
//                     baseline: KvStore.put of the same two records per key into a bare store
//                     (--baseline-keys of them; CPU µs per key beside each rate)
//   memory            heap + external bytes per key version after gc, at --keys keys (one version
//                     each) and again after rotating --rotate of them once; baseline: a
//                     Map<name, 32-byte material> of the same keys (what holding raw keys costs)
//   encrypt / decrypt NamedKeys.encrypt / .decrypt of 256-byte plaintexts, CPU µs per call, in
//                     alternating rounds with ServingKeys.appKey (what POST /kms/derive computes)
// Prints {"bench": "keys", ...} lines on stdout, progress on stderr. Needs gc():
//   node --expose-gc --import tsx bench/keys/in-process.ts [--keys 100000] [--apps 10] [--rotate 10000]
//     [--baseline-keys 20000] [--op-ms 3000] [--plaintext-bytes 256]
// (bench/keys.ts runs it that way.)
import { randomBytes } from "node:crypto";
import { ClusterCommits } from "../../enclave/cluster/key-commits.js";
import { LeaseTable } from "../../enclave/cluster/key-leases.js";
import { utf8 } from "../../enclave/crypto/bytes.js";
import { newKey } from "../../enclave/keys/key-lifecycle.js";
import { KeyRecords, reservedNamespaceOf } from "../../enclave/keys/key-records.js";
import { NamedKeys } from "../../enclave/keys/named-keys.js";
import { createLogger } from "../../enclave/log.js";
import { ServingKeys } from "../../enclave/serving-keys.js";
import { KvStore } from "../../enclave/store/kv-store.js";
import { parseFlags, positiveNumber } from "../lib/args.js";
import { printResult } from "../lib/result.js";

const BENCH = "keys";
const NODE_ID = `0x${"1".repeat(40)}`;
const MATERIAL_BYTES = 32;

const collect = (globalThis as { gc?: () => void }).gc;
if (typeof collect !== "function") {
  process.stderr.write("bench/keys/in-process.ts needs gc(): run it with node --expose-gc --import tsx\n");
  process.exit(2);
}

const f = parseFlags(
  process.argv.slice(2),
  {
    keys: { default: "100000", help: "encrypt keys to create (one version each)" },
    apps: { default: "10", help: "apps the keys are spread over (round robin)" },
    rotate: { default: "10000", help: "keys rotated once after the first measurement" },
    "baseline-keys": { default: "20000", help: "keys of the bare-store put baseline (its rate hardly depends on it)" },
    "plaintext-bytes": { default: "256", help: "plaintext size of the encrypt/decrypt timing" },
    "op-ms": { default: "3000", help: "ms per operation in the in-process encrypt/decrypt vs derive timing" },
  },
  "node --expose-gc --import tsx bench/keys/in-process.ts [flags]",
);
const KEYS = Math.round(positiveNumber(f.keys, "keys"));
const APPS = Math.min(KEYS, Math.round(positiveNumber(f.apps, "apps")));
const ROTATE = Math.min(KEYS, Number(f.rotate));
if (!Number.isInteger(ROTATE) || ROTATE < 0) throw new Error(`--rotate must be a whole number ≥ 0, got ${f.rotate}`);
const OP_MS = positiveNumber(f["op-ms"], "op-ms");
const PLAINTEXT_BYTES = Math.round(positiveNumber(f["plaintext-bytes"], "plaintext-bytes"));
const BASELINE_KEYS = Math.min(KEYS, Math.round(positiveNumber(f["baseline-keys"], "baseline-keys")));

const say = (text: string) => process.stderr.write(`[keys/in-process] ${text}\n`);
const master = new Uint8Array(randomBytes(32));
const names = Array.from({ length: KEYS }, (_, i) => `bench-key-${i.toString().padStart(6, "0")}`);
const appOf = (i: number) => BigInt(1 + (i % APPS));
const perApp = Math.ceil(KEYS / APPS);
// Reserved namespaces use the per-app limits: two records per key (meta + v/1), one more per rotation.
const limits = { maxKeysPerApp: Math.max(300_000, 4 * perApp), maxBytesPerApp: 1 << 30 };

interface Memory {
  heap: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

function settledMemory(): Memory {
  for (let i = 0; i < 4; i++) collect!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

function perItem(after: Memory, before: Memory, n: number) {
  const heap = (after.heap - before.heap) / n;
  const external = (after.external - before.external) / n;
  return {
    total: heap + external,
    heap: Math.round(heap),
    external: Math.round(external),
    arrayBuffers: Math.round((after.arrayBuffers - before.arrayBuffers) / n),
    rss: Math.round((after.rss - before.rss) / n),
  };
}

/** The node's key stack for one node with no peers (enclave/node.ts, minus the network). */
function oneNodeKeys(servingKeys: ServingKeys) {
  const store = new KvStore({ nodeId: NODE_ID, dataKey: (appId) => servingKeys.dataKey(appId), limits });
  const records = new KeyRecords(() => store);
  const commits = new ClusterCommits({
    self: NODE_ID,
    leases: new LeaseTable(),
    peers: () => [],
    memberCount: () => 1,
    askLease: () => Promise.reject(new Error("a one-node cluster asks no peer")),
    releaseLease: () => Promise.reject(new Error("a one-node cluster asks no peer")),
    merge: (wire) => store.merge(wire),
    replicated: async () => {},
    fresh: async () => {},
    log: createLogger("warn"),
  });
  const keys = new NamedKeys({
    records,
    commits,
    keyEncryptionKey: (appId, name) => servingKeys.keyEncryptionKey(appId, name),
    random: async (n) => new Uint8Array(randomBytes(n)),
    destroyDelayMs: 24 * 3_600_000,
  });
  return { store, keys };
}

/** Runs `fn` n times one after another: calls per second (wall) and CPU µs per call. */
async function timed(label: string, n: number, fn: (i: number) => unknown): Promise<{ perSec: number; cpuUs: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    await fn(i);
    if ((i + 1) % 25_000 === 0) say(`${label}: ${i + 1}/${n}`);
  }
  const c = process.cpuUsage(c0);
  return { perSec: n / ((performance.now() - t0) / 1000), cpuUs: (c.user + c.system) / n };
}

async function main(): Promise<void> {
  const servingKeys = new ServingKeys(master);
  const common = { keys: KEYS, apps: APPS, keys_per_app: perApp };

  // --- baseline memory: the raw materials in a Map ---
  const m0 = settledMemory();
  let map: Map<string, Uint8Array> | null = new Map();
  for (let i = 0; i < KEYS; i++) map.set(`${appOf(i)}:${names[i]}`, new Uint8Array(randomBytes(MATERIAL_BYTES)));
  const m1 = settledMemory();
  // Touch it after measuring, or V8 may collect it as dead during the measurement.
  if (map.size !== KEYS) throw new Error("baseline map incomplete");
  map = null;
  const mapPerKey = perItem(m1, m0, KEYS);

  // --- baseline create rate: the same two records per key put straight into a bare store ---
  let bare: KvStore | null = new KvStore({ nodeId: NODE_ID, dataKey: (a) => servingKeys.dataKey(a), limits });
  const meta = (i: number) => utf8(JSON.stringify(newKey({ name: names[i]!, purpose: "encrypt" }, Date.now())));
  const wrappedLength = 12 + MATERIAL_BYTES + 16;
  say(`baseline: ${BASELINE_KEYS} × 2 KvStore.put`);
  const barePuts = await timed("bare puts", BASELINE_KEYS, (i) => {
    const ns = reservedNamespaceOf(appOf(i));
    bare!.put(ns, `key/${names[i]}/v/1`, new Uint8Array(randomBytes(wrappedLength)));
    bare!.put(ns, `key/${names[i]}/meta`, meta(i));
  });
  bare = null;

  // --- named keys: create, memory, rotate, memory ---
  const m2 = settledMemory();
  let stack: ReturnType<typeof oneNodeKeys> | null = oneNodeKeys(servingKeys);
  const { keys } = stack;
  say(`creating ${KEYS} encrypt keys over ${APPS} app(s)`);
  const create = await timed("create", KEYS, (i) => keys.create(appOf(i), { name: names[i]!, purpose: "encrypt" }));
  const m3 = settledMemory();
  const created = perItem(m3, m2, KEYS);
  const accountedCreated = stack.store.stats().liveBytes / KEYS;

  printResult({
    bench: BENCH,
    metric: "create_keys_per_sec",
    value: create.perSec,
    unit: "keys/s",
    baseline: barePuts.perSec,
    baseline_metric: "kvstore_two_puts_per_sec",
    cpu_us_per_key: Math.round(create.cpuUs),
    baseline_cpu_us: Math.round(barePuts.cpuUs),
    baseline_keys: BASELINE_KEYS,
    ...common,
  });
  printResult({
    bench: BENCH,
    metric: "memory_per_key_version",
    value: created.total,
    unit: "bytes",
    baseline: mapPerKey.total,
    baseline_metric: "map_of_32_byte_materials_per_key",
    versions: KEYS,
    heap_per_version: created.heap,
    external_per_version: created.external,
    array_buffers_per_version: created.arrayBuffers,
    rss_per_version: created.rss,
    quota_accounted_per_version: Math.round(accountedCreated),
    ...common,
  });

  if (ROTATE > 0) {
    say(`rotating ${ROTATE} keys once`);
    const rotate = await timed("rotate", ROTATE, (i) => keys.rotate(appOf(i), names[i]!));
    const m4 = settledMemory();
    const all = perItem(m4, m2, KEYS + ROTATE);
    const added = perItem(m4, m3, ROTATE);
    printResult({
      bench: BENCH,
      metric: "rotate_keys_per_sec",
      value: rotate.perSec,
      unit: "keys/s",
      baseline: create.perSec,
      baseline_metric: "create_keys_per_sec",
      cpu_us_per_key: Math.round(rotate.cpuUs),
      baseline_cpu_us: Math.round(create.cpuUs),
      rotated: ROTATE,
      ...common,
    });
    printResult({
      bench: BENCH,
      metric: "memory_per_key_version_after_rotation",
      value: all.total,
      unit: "bytes",
      baseline: created.total,
      baseline_metric: "memory_per_key_version",
      versions: KEYS + ROTATE,
      rotated: ROTATE,
      heap_per_version: all.heap,
      external_per_version: all.external,
      added_per_rotation: Math.round(added.total),
      quota_accounted_per_version: Math.round(stack.store.stats().liveBytes / (KEYS + ROTATE)),
      ...common,
    });
  }

  // --- in-process encrypt / decrypt vs derive (the node-side work minus HTTP and the channel) ---
  const plaintext = new Uint8Array(randomBytes(PLAINTEXT_BYTES));
  const empty = new Uint8Array();
  // Keys past the rotated ones (still at version 1) and before them (version 2): both kinds of record.
  const pick = (i: number) => (i * 7919) % KEYS;
  const sealed = await Promise.all(
    Array.from({ length: 256 }, async (_, i) => {
      const k = pick(i);
      return (await keys.encrypt(appOf(k), names[k]!, plaintext, empty)).ciphertext;
    }),
  );
  let sink = 0;
  const encrypt = async (i: number) => {
    const k = pick(i);
    sink += (await keys.encrypt(appOf(k), names[k]!, plaintext, empty)).version;
  };
  const decrypt = async (i: number) => {
    const k = pick(i & 255);
    sink += (await keys.decrypt(appOf(k), sealed[i & 255]!, empty)).plaintext.length;
  };
  const derive = async (i: number) => {
    sink += servingKeys.appKey(appOf(i), `bench/key-${i & 15}`, undefined, 32).length;
  };
  const us = await alternate({ encrypt, decrypt, derive }, OP_MS);
  for (const op of ["encrypt", "decrypt"] as const) {
    printResult({
      bench: BENCH,
      metric: `inproc_${op}_cpu_us`,
      value: us.cpu[op],
      unit: "µs",
      baseline: us.cpu.derive,
      baseline_metric: "inproc_derive_cpu_us (ServingKeys.appKey, 32 bytes)",
      wall_us: Math.round(us.wall[op] * 10) / 10,
      baseline_wall_us: Math.round(us.wall.derive * 10) / 10,
      plaintext_bytes: PLAINTEXT_BYTES,
      ...common,
    });
  }
  if (sink < 0) say("");
  stack = null;
}

/** CPU µs per call of each async op, interleaved in rounds (median round), like lib/ops.ts does for sync ones. */
async function alternate<K extends string>(
  ops: Record<K, (i: number) => Promise<void>>,
  totalMsPerOp: number,
): Promise<{ cpu: Record<K, number>; wall: Record<K, number> }> {
  const rounds = 5;
  const roundMs = totalMsPerOp / rounds;
  const entries = Object.entries(ops) as Array<[K, (i: number) => Promise<void>]>;
  // CPU time, not wall time: on a shared 2-core machine a neighbour stretches the wall clock of
  // whichever op happens to run while it is busy.
  const runFor = async (fn: (i: number) => Promise<void>, ms: number) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let n = 0;
    while (performance.now() - t0 < ms) await fn(n++);
    const c = process.cpuUsage(c0);
    return { cpu: (c.user + c.system) / n, wall: ((performance.now() - t0) * 1000) / n };
  };
  for (const [, fn] of entries) await runFor(fn, 200);
  const cpu = new Map<K, number[]>(entries.map(([k]) => [k, []]));
  const wall = new Map<K, number[]>(entries.map(([k]) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of entries) {
      const t = await runFor(fn, roundMs);
      cpu.get(k)!.push(t.cpu);
      wall.get(k)!.push(t.wall);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const medians = (m: Map<K, number[]>) =>
    Object.fromEntries(entries.map(([k]) => [k, median(m.get(k)!)])) as Record<K, number>;
  return { cpu: medians(cpu), wall: medians(wall) };
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);

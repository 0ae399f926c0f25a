// In-process KV store engine benchmark (no HTTP): put/get ops/s and memory per record.
//   put / get     KvStore.put (seal + quota + clock + log + digest) and KvStore.get (open) over
//                 100,000 keys with 64-byte values; baseline: a plain Map set/get of the same data.
//   memory        heap (+ ArrayBuffer backing stores) per record after gc at 100,000 records;
//                 baseline: a Map<string, Uint8Array> holding the same 64-byte plaintexts.
// Run: npx tsx bench/kv-store.ts   (re-executes itself under `node --expose-gc --import tsx`)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ServingKeys } from "../enclave/serving-keys.js";
import { KvStore } from "../enclave/store/kv-store.js";
import { compareOps } from "./lib/ops.js";
import { printResult } from "./lib/result.js";

const BENCH = "kv-store";
const RECORDS = 100_000;
const VALUE_BYTES = 64;
const APP = 1n;

const gc = (globalThis as { gc?: () => void }).gc;
if (typeof gc !== "function") {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", self], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
const collect = gc as () => void;

const master = new Uint8Array(32).fill(5);
const keyOf = (i: number) => `key-${i.toString().padStart(8, "0")}`;
const keys = Array.from({ length: RECORDS }, (_, i) => keyOf(i));
const values = Array.from({ length: RECORDS }, (_, i) => new Uint8Array(VALUE_BYTES).fill(i & 255));

// The node's own cached data-key source: the store derives nothing itself.
const servingKeys = new ServingKeys(master);

function newStore(): KvStore {
  return new KvStore({
    nodeId: `0x${"1".repeat(40)}`,
    dataKey: (appId) => servingKeys.dataKey(appId),
    limits: { maxBytesPerApp: 1 << 30, maxKeysPerApp: 1_000_000 },
  });
}

function settledMemory(): { heap: number; buffers: number; rss: number } {
  for (let i = 0; i < 4; i++) collect();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
}

// --- memory per record (measured first, on a quiet heap) ---
{
  const base0 = settledMemory();
  let map: Map<string, Uint8Array> | null = new Map();
  for (let i = 0; i < RECORDS; i++) map.set(keys[i]!, values[i]!.slice());
  const base1 = settledMemory();
  const baseHeap = (base1.heap - base0.heap) / RECORDS;
  const baseBuffers = (base1.buffers - base0.buffers) / RECORDS;
  const baseRss = (base1.rss - base0.rss) / RECORDS;
  // Touch the map after measuring, or V8 may treat it as dead and collect it during the measurement.
  if (map.size !== RECORDS) throw new Error("baseline map incomplete");
  map = null;

  const before = settledMemory();
  let store: KvStore | null = newStore();
  for (let i = 0; i < RECORDS; i++) store.put(APP, keys[i]!, values[i]!);
  const after = settledMemory();
  const perRecordHeap = (after.heap - before.heap) / RECORDS;
  const perRecordBuffers = (after.buffers - before.buffers) / RECORDS;
  const perRecordRss = (after.rss - before.rss) / RECORDS;
  const accounted = store.stats().liveBytes / RECORDS;
  store = null;

  printResult({
    bench: BENCH,
    metric: "memory_per_record",
    value: perRecordHeap + perRecordBuffers,
    unit: "bytes",
    baseline: baseHeap + baseBuffers,
    records: RECORDS,
    value_bytes: VALUE_BYTES,
    heap_per_record: Math.round(perRecordHeap),
    array_buffers_per_record: Math.round(perRecordBuffers),
    rss_per_record: Math.round(perRecordRss),
    baseline_rss_per_record: Math.round(baseRss),
    quota_accounted_per_record: Math.round(accounted),
    baseline_metric: "Map<string, Uint8Array> of the plaintexts",
  });
}

// --- put / get ops/s at 100,000 records ---
{
  const store = newStore();
  const map = new Map<string, Uint8Array>();
  for (let i = 0; i < RECORDS; i++) {
    store.put(APP, keys[i]!, values[i]!);
    map.set(keys[i]!, values[i]!.slice());
  }
  let p = 0;
  let q = 0;
  const put = compareOps(
    () => {
      p = (p + 7919) % RECORDS;
      store.put(APP, keys[p]!, values[p]!);
    },
    () => {
      q = (q + 7919) % RECORDS;
      map.set(keys[q]!, values[q]!.slice());
    },
    { roundMs: 500 },
  );
  printResult({
    bench: BENCH,
    metric: "put_ops",
    value: put.value,
    unit: "ops/s",
    baseline: put.baseline,
    records: RECORDS,
    baseline_metric: "Map.set of a copy",
  });

  let sink = 0;
  const get = compareOps(
    () => {
      p = (p + 7919) % RECORDS;
      sink += store.get(APP, keys[p]!)!.value.length;
    },
    () => {
      q = (q + 7919) % RECORDS;
      sink += map.get(keys[q]!)!.length;
    },
    { roundMs: 500 },
  );
  printResult({
    bench: BENCH,
    metric: "get_ops",
    value: get.value,
    unit: "ops/s",
    baseline: get.baseline,
    records: RECORDS,
    baseline_metric: "Map.get",
  });
  if (sink < 0) process.stdout.write("");
}

// Long HTTP fuzz of one node as operators run it (its own process, on a dev chain, rate limits off):
// the cases of test/support/http-fuzz.ts, many more of them than `make test` sends. Findings —
// answers outside the documented statuses, hangs, a node that died — are listed on stderr and make
// the exit code 1. Not part of run-all: it is a robustness run, not a measurement to compare.
// Lines: unexpected_answers (0 expected), requests_per_sec (see bench/README.md).
// Run: npx tsx bench/fuzz.ts [--requests 20000] [--seed N] [--concurrency 8]
import { hexToBytes } from "../enclave/crypto/bytes.js";
import { SimulatedTee } from "../enclave/tee/simulated.js";
import { runHttpFuzz } from "../test/support/http-fuzz.js";
import { parseFlags, positiveNumber } from "./lib/args.js";
import { printResult } from "./lib/result.js";
import { runMain } from "./load/http-bench.js";
import { startBenchNode } from "./load/kms-node.js";

const BENCH = "fuzz";

runMain(async () => {
  const f = parseFlags(
    process.argv.slice(2),
    {
      requests: { default: "20000", help: "fuzzed requests to send" },
      seed: { default: String(Date.now() % 2 ** 31), help: "fast-check seed (printed, to replay a run)" },
      concurrency: { default: "8", help: "requests in flight at once" },
    },
    "npx tsx bench/fuzz.ts [flags]",
  );
  const runs = Math.round(positiveNumber(f.requests, "requests"));
  const seed = Number(f.seed);
  const node = await startBenchNode();
  let exitCode = 0;
  try {
    const { target } = node;
    const fuzzTarget = {
      url: target.url,
      wallet: target.nodeWallet,
      teePublicKey: hexToBytes(target.nodeTeePubkeyHex),
      app: new SimulatedTee({ seed: target.appSeed }),
    };
    process.stderr.write(`fuzzing ${target.url}: ${runs} requests, seed ${seed}\n`);
    const report = await runHttpFuzz(fuzzTarget, {
      runs,
      seed,
      concurrency: Math.round(positiveNumber(f.concurrency, "concurrency")),
    });
    // A node that crashed answers nothing more; one that is alive still says it is healthy.
    const alive = await fetch(`${target.url}/health`).then(
      (res) => res.ok,
      () => false,
    );
    const common = { seed, requests: report.requests, seconds: Math.round(report.seconds * 10) / 10 };
    printResult({
      bench: BENCH,
      metric: "unexpected_answers",
      value: report.findingCount + (alive ? 0 : 1),
      unit: "count",
      baseline: 0,
      baseline_metric: "expected",
      node_alive: alive,
      answers: report.answers,
      ...common,
    });
    printResult({
      bench: BENCH,
      metric: "requests_per_sec",
      value: report.requests / report.seconds,
      unit: "req/s",
      baseline: null,
      ...common,
    });
    for (const finding of report.findings) process.stderr.write(`finding: ${finding.answer} ← ${finding.case}\n`);
    if (report.findingCount > 0 || !alive) {
      process.stderr.write(`${report.findingCount} unexpected answers; node alive: ${alive}\n${node.node.tail()}\n`);
      exitCode = 1;
    }
  } finally {
    await node.stop();
  }
  if (exitCode !== 0) process.exit(exitCode);
});

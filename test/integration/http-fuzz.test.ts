// HTTP fuzzing of a real node (test/support/http-fuzz.ts): 2,400 seeded requests of every kind —
// malformed methods, paths, headers, bodies, envelopes, PoP headers, inner JSON, raw bytes — and
// every answer must be a status the API documents: no 5xx, no hang, no crash. The node logs every
// unhandled error; there must be none. FUZZ_SEED=<n> replays another sequence.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runHttpFuzz, type FuzzTarget } from "../support/http-fuzz.js";
import { getJson, KmsHarness, isServing, waitFor } from "../support/kms-harness.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_111);
const RUNS = 2_400;

let harness: KmsHarness;
let target: FuzzTarget;
const logLines: string[] = [];

beforeAll(async () => {
  harness = await KmsHarness.start();
  const node = await harness.startNode({
    env: {
      MASTER_SECRET_HEX: "44".repeat(32),
      // Limits off, so the fuzz reaches the routes instead of the rate limiter.
      RATE_LIMIT_PER_MINUTE: "0",
      NONCE_RATE_LIMIT_PER_MINUTE: "0",
      WALLET_RATE_LIMIT_PER_MINUTE: "0",
      APP_RATE_LIMIT_PER_MINUTE: "0",
      LOG_LEVEL: "error",
    },
    logDestination: { write: (line) => logLines.push(line) },
  });
  await waitFor(() => isServing(node.url), 20_000, "node ready");
  const app = await harness.registerApp();
  target = { url: node.url, wallet: node.wallet, teePublicKey: node.node.teePublicKey, app: app.tee };
});

afterAll(async () => {
  await harness?.stop();
});

describe("HTTP fuzz", () => {
  it(`answers ${RUNS} malformed requests (seed ${SEED}) with documented statuses only`, async () => {
    const report = await runHttpFuzz(target, { runs: RUNS, seed: SEED, concurrency: 4 });
    expect(report.findings).toEqual([]);
    expect(report.requests).toBe(RUNS);
    // The cases reach past each check: refusals of every kind, and answers from the routes.
    for (const status of ["200", "400", "403", "404", "413"]) expect(report.answers[status]).toBeGreaterThan(0);
    expect(logLines.filter((line) => line.includes('"level":50'))).toEqual([]);
    expect(await getJson(`${target.url}/health`)).toEqual({ status: "healthy" });
  });
});

// Odyn-compatible HTTP simulator: the enclave runtime's internal API on loopback, holding the same
// keys a SimulatedTee with the same seed holds, so enclave mode (OdynTee) can run and be tested
// outside an enclave.
//   npx tsx scripts/odyn-simulator.ts --port 18000 --seed node-1 [--host 127.0.0.1] [--label capsule|enclaver]
// Like a real runtime it opens and seals under one envelope label: the current Nova runtime's
// (capsule, default) or the earlier enclaver/Odyn's (`--label enclaver`).
// --seed defaults to $SIM_NODE_SEED, then to a random identity. Prints one JSON line
// {url, wallet, tee_pubkey (SPKI hex)} once listening; stops on SIGINT/SIGTERM.
// In tests: `const sim = await startOdynSimulator({ seed })`, `sim.faults.failNext(2)`, `await sim.stop()`.
import { realpathSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { SimulatedTee, type SimulatedIdentity, type SimulatedSeed } from "../enclave/tee/simulated.js";
import { CAPSULE_LABEL, ENCLAVER_LABEL, type EnvelopeLabel } from "../enclave/crypto/envelope.js";
import { createOdynApp, RequestLog, type RequestRecord } from "./odyn-simulator/app.js";
import { FaultInjector } from "./odyn-simulator/faults.js";

export { FaultInjector } from "./odyn-simulator/faults.js";
export type { RequestRecord } from "./odyn-simulator/app.js";

export interface OdynSimulatorOptions {
  /** Same meaning as SIM_NODE_SEED; a random identity when absent. */
  seed?: SimulatedSeed;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Remembered (client key, nonce) pairs for decrypt replay refusal; 0 turns it off. */
  replayWindow?: number;
  /** The one label this runtime opens and seals under; default the current runtime's (capsule). */
  envelopeLabel?: EnvelopeLabel;
}

export interface OdynSimulator {
  /** Base URL, e.g. http://127.0.0.1:41234 — what ODYN_URL should be. */
  url: string;
  identity: SimulatedIdentity;
  faults: FaultInjector;
  /** The most recent requests received (up to 1,000), in order, faulted ones included. */
  requests: readonly RequestRecord[];
  /** Requests ever received for `path` (all paths when absent), faulted ones included. */
  requestCount(path?: string): number;
  stop(): Promise<void>;
}

export async function startOdynSimulator(options: OdynSimulatorOptions = {}): Promise<OdynSimulator> {
  const tee = new SimulatedTee({
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.replayWindow !== undefined ? { replayWindow: options.replayWindow } : {}),
    envelopeLabels: [options.envelopeLabel ?? CAPSULE_LABEL],
  });
  const faults = new FaultInjector();
  const requests = new RequestLog(1_000);
  // Injected delays end early on stop(), so a test's teardown never waits for a fault to run out.
  const pending = new Set<() => void>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pending.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      pending.add(done);
    });

  const app = createOdynApp(tee, faults, requests, pause);
  const host = options.host ?? "127.0.0.1";
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () =>
      resolve(s as Server),
    ) as Server;
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let stopped: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    identity: tee.identity,
    faults,
    get requests() {
      return requests.recent;
    },
    requestCount: (path?: string) => requests.count(path),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const release of [...pending]) release();
        server.close(() => resolve());
        // Keep-alive clients would otherwise hold close() open.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "18000" },
      host: { type: "string", default: "127.0.0.1" },
      seed: { type: "string" },
      label: { type: "string", default: "capsule" },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port must be an integer in 0..65535");
  const seed = values.seed ?? process.env.SIM_NODE_SEED;
  if (seed === "") throw new Error("--seed must not be empty");
  const labels: Record<string, EnvelopeLabel> = { capsule: CAPSULE_LABEL, enclaver: ENCLAVER_LABEL };
  const envelopeLabel = labels[values.label];
  if (!envelopeLabel) throw new Error("--label must be capsule or enclaver");
  const sim = await startOdynSimulator({
    port,
    host: values.host,
    envelopeLabel,
    ...(seed !== undefined ? { seed } : {}),
  });
  process.stdout.write(
    JSON.stringify({ url: sim.url, wallet: sim.identity.wallet, tee_pubkey: sim.identity.teePubkeySpkiHex.slice(2) }) +
      "\n",
  );
  const shutdown = () => {
    void sim.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(realpathSync(invokedPath)).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`odyn-simulator: ${(err as Error).message}\n`);
    process.exit(1);
  });
}

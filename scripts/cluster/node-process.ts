// Runs one KMS node as its own OS process (`node --import tsx enclave/main.ts`), the way an operator
// would, so scripts and tests can pause, kill and restart it like a real machine. The node is spawned
// directly rather than through npx/tsx's CLI, so `pid` is the node itself and signals reach it.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import getPort from "get-port";
import { simulatedIdentity } from "../../enclave/tee/simulated.js";
import type { Deployment } from "../devchain/deployment-file.js";
import { onProcessExit } from "../devchain/exit-cleanup.js";
import { REPO_ROOT } from "../devchain/paths.js";
import { waitForHealth } from "./wait.js";
import { settlesWithin } from "../lib/settles-within.js";

export interface NodeProcessOptions {
  /**
   * Node configuration (see enclave/config.ts): usually `deploymentEnv(deployment)` plus extras such
   * as MASTER_SECRET_HEX. Nothing else is inherited from this process's environment. KMS_NODE_TICK_MS
   * defaults to 1000 here (faster start than the node's 5 s); SIMULATION_MODE, SIM_NODE_SEED,
   * BIND_HOST, PORT and NODE_INSTANCE_URL are always set by this function.
   */
  env: Record<string, string>;
  /** SIM_NODE_SEED: fixes the node's wallet and P-384 key, so it can be registered by seed. */
  seed: string;
  /**
   * Where stdout and stderr go (truncated at start). Without it stdout is dropped and stderr kept in
   * memory for errors.
   */
  logFile?: string;
  /** LOG_LEVEL for the node; default "info" with a log file, "warn" without one. */
  logLevel?: string;
  /** Fixed port; by default a free loopback port is picked (and re-picked if taken before the node binds it). */
  port?: number;
  /** How long to wait for GET /health, default 60 s (first start compiles TypeScript on a busy machine). */
  readyTimeoutMs?: number;
}

export interface NodeProcess {
  readonly pid: number;
  /** Base URL, e.g. http://127.0.0.1:41234 — the same string to register on chain. */
  readonly url: string;
  readonly port: number;
  /** Lower-case wallet derived from the seed. */
  readonly wallet: string;
  readonly seed: string;
  readonly logFile: string | undefined;
  /** Exit code, or null when the process ended by a signal. Resolves whenever the process ends. */
  readonly exited: Promise<number | null>;
  /**
   * SIGTERM (graceful shutdown), SIGKILL if still there after `graceMs` (default 5 s); resolves once
   * gone. Idempotent.
   */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, like a crash or power loss; resolves once gone. */
  kill(): Promise<void>;
  /** SIGSTOP: the process stays but answers nothing (a hung or partitioned node). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;
const HOST = "127.0.0.1";

/** The chain part of a node's environment, from a dev chain deployment record. */
export function deploymentEnv(deployment: Deployment): Record<string, string> {
  return {
    CHAIN_RPC_URL: deployment.rpcUrl,
    NOVA_APP_REGISTRY_ADDRESS: deployment.novaAppRegistry,
    KMS_REGISTRY_ADDRESS: deployment.kmsRegistry,
    KMS_APP_ID: deployment.kmsAppId.toString(),
  };
}

/** Starts a node process and resolves once it answers GET /health. */
export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await getPort({ host: HOST }));
    try {
      return await launch(options, port, attempt > 0);
    } catch (error) {
      // get-port only knows the port was free a moment ago; if someone else bound it first, the
      // node exits with EADDRINUSE and a fresh port is worth one more try.
      lastError = error;
      if (!(error instanceof PortTaken)) throw error;
    }
  }
  throw lastError;
}

class PortTaken extends Error {}

async function launch(options: NodeProcessOptions, port: number, append: boolean): Promise<NodeProcess> {
  const url = `http://${HOST}:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...hostEnv(),
    KMS_NODE_TICK_MS: "1000",
    ...options.env,
    SIMULATION_MODE: "true",
    SIM_NODE_SEED: options.seed,
    BIND_HOST: HOST,
    PORT: String(port),
    NODE_INSTANCE_URL: url,
    LOG_LEVEL: options.logLevel ?? options.env.LOG_LEVEL ?? (options.logFile ? "info" : "warn"),
  };

  let logFd: number | undefined;
  if (options.logFile) {
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    logFd = openSync(options.logFile, append ? "a" : "w");
  }
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ["--import", "tsx", path.join("enclave", "main.ts")], {
      cwd: REPO_ROOT,
      env,
      stdio: logFd === undefined ? ["ignore", "ignore", "pipe"] : ["ignore", logFd, logFd],
    });
  } finally {
    // The child holds its own copy of the descriptor.
    if (logFd !== undefined) closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    const reason = await new Promise<Error>((resolve) => child.once("error", resolve));
    throw new Error(`could not start a node process: ${reason.message}`);
  }

  let stderrTail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4_000);
  });
  const outputTail = (): string => (options.logFile ? readTail(options.logFile) : stderrTail).trim();

  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
  let running = true;
  let stopRequested = false;
  // A node must not outlive the script or test that started it, however that one ends. The shared
  // cleanup also runs on SIGINT/SIGTERM to this process; a node whose graceful stop() has already
  // begun (a script shutting down on Ctrl-C) is left to finish it, and only an actual exit of this
  // process kills it outright.
  const unregister = onProcessExit(() => {
    if (running && !stopRequested) child.kill("SIGKILL");
  });
  const killOnExit = (): void => {
    if (running) child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);
  void exited.then(() => {
    running = false;
    unregister();
    process.off("exit", killOnExit);
  });

  const signal = (name: NodeJS.Signals): void => {
    if (running) child.kill(name);
  };
  const kill = async (): Promise<void> => {
    signal("SIGKILL");
    await exited;
  };
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> =>
    (stopping ??= (async () => {
      stopRequested = true;
      signal("SIGTERM");
      // A paused process would hold the SIGTERM until continued.
      signal("SIGCONT");
      if (!(await settlesWithin(exited, graceMs))) await kill();
    })());

  try {
    await waitForHealth(url, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, exited);
  } catch (error) {
    await kill();
    const tail = outputTail();
    if (/EADDRINUSE/.test(tail)) throw new PortTaken(`port ${port} was taken before the node bound it`);
    throw new Error(
      `${(error as Error).message}${tail ? `\n--- node output (${options.seed}) ---\n${tail.slice(-2_000)}` : ""}`,
    );
  }

  return {
    pid,
    url,
    port,
    wallet: simulatedIdentity(options.seed).wallet.toLowerCase(),
    seed: options.seed,
    logFile: options.logFile,
    exited,
    stop,
    kill,
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
  };
}

/**
 * Only what a process needs from the host. Node settings are never inherited from the caller's
 * environment, so a stray PORT or IN_ENCLAVE in a shell cannot change what a script or test runs.
 */
function hostEnv(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "TZ", "SystemRoot"]) {
    const value = process.env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function readTail(file: string): string {
  try {
    return readFileSync(file, "utf8").slice(-4_000);
  } catch {
    return "";
  }
}

// Starts a throw-away anvil on a free loopback port and stops it without leaving a process behind.
import { spawn, type ChildProcess } from "node:child_process";
import getPort from "get-port";
import { resolveAnvilBinary } from "./anvil-binary.js";
import { onProcessExit } from "./exit-cleanup.js";
import { answersChainId } from "./rpc-probe.js";
import { settlesWithin } from "../lib/settles-within.js";

export interface AnvilOptions {
  /** Fixed port; by default a free one is picked (and re-picked if another process grabs it first). */
  port?: number;
  host?: string;
  chainId?: number;
  /** Seconds between blocks; by default anvil mines one block per transaction. */
  blockTime?: number;
  readyTimeoutMs?: number;
  binary?: string;
}

export interface AnvilInstance {
  readonly rpcUrl: string;
  readonly host: string;
  readonly port: number;
  readonly chainId: number;
  readonly pid: number;
  /** Resolves once the process has exited (after stop(), or if it dies by itself). */
  readonly exited: Promise<void>;
  /** SIGTERM, then SIGKILL if it lingers; resolves when the process is gone. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_CHAIN_ID = 31337;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;

export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilInstance> {
  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await getPort({ host: options.host ?? "127.0.0.1" }));
    try {
      return await launch({ ...options, port });
    } catch (error) {
      // get-port only says the port was free a moment ago; another process may bind it before
      // anvil does. Such a failure shows as an early exit, so try a fresh port.
      lastError = error;
      if (!(error instanceof AnvilExitedEarly)) throw error;
    }
  }
  throw lastError;
}

class AnvilExitedEarly extends Error {}

async function launch(options: AnvilOptions & { port: number }): Promise<AnvilInstance> {
  const host = options.host ?? "127.0.0.1";
  const chainId = options.chainId ?? DEFAULT_CHAIN_ID;
  const args = ["--host", host, "--port", String(options.port), "--chain-id", String(chainId), "--silent"];
  if (options.blockTime !== undefined) args.push("--block-time", String(options.blockTime));

  const child = spawn(options.binary ?? resolveAnvilBinary(), args, { stdio: ["ignore", "ignore", "pipe"] });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports ENOENT and friends asynchronously through 'error'.
    const reason = await new Promise<Error>((resolve) => child.once("error", resolve));
    throw new Error(`could not start anvil: ${reason.message}`);
  }

  let stderrTail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4_000);
  });

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  let running = true;
  const unregister = onProcessExit(() => {
    if (running) child.kill("SIGKILL");
  });
  void exited.then(() => {
    running = false;
    unregister();
  });

  const rpcUrl = `http://${host}:${options.port}`;
  try {
    await waitUntilReady(rpcUrl, exited, options.readyTimeoutMs ?? 30_000, () => stderrTail);
  } catch (error) {
    await terminate(child, exited);
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    rpcUrl,
    host,
    port: options.port,
    chainId,
    pid,
    exited,
    stop: () => (stopping ??= terminate(child, exited)),
  };
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (!(await settlesWithin(exited, STOP_GRACE_MS))) {
    child.kill("SIGKILL");
    await exited;
  }
}

async function waitUntilReady(
  rpcUrl: string,
  exited: Promise<void>,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited) throw new AnvilExitedEarly(`anvil exited before answering on ${rpcUrl}: ${stderr().trim()}`);
    if (await answersChainId(rpcUrl)) return;
    // Short pause between probes; the loop ends on the condition, not on the pause.
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))]);
  }
  throw new Error(`anvil did not answer eth_chainId on ${rpcUrl} within ${timeoutMs} ms`);
}

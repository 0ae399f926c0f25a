// Child processes of a benchmark (node under test, echo server, load generators). Each is killed
// when the benchmark ends in any way — normal exit, error, Ctrl-C — through the same exit hook the
// dev chain uses for anvil, so a run never leaves a process listening behind it.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createInterface } from "node:readline";
import { onProcessExit } from "../../scripts/devchain/exit-cleanup.js";

export interface BenchChild {
  readonly pid: number;
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  /** Complete stdout lines, in order, as they arrive. */
  onLine(listener: (line: string) => void): void;
  /** The last few KiB of stderr (and stdout lines nobody consumed), for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnChildOptions extends SpawnOptions {
  /**
   * Sent when this process ends before the child: SIGKILL (default) for leaves; SIGTERM for a child
   * that has children of its own (a benchmark under run-all), so it can clean up after itself.
   */
  exitSignal?: NodeJS.Signals;
}

export function spawnChild(name: string, command: string, args: string[], options: SpawnChildOptions = {}): BenchChild {
  const { exitSignal = "SIGKILL", ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const pid = child.pid;
  let tail = "";
  const keep = (text: string) => {
    tail = (tail + text).slice(-4_000);
  };
  const listeners: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (listeners.length === 0) keep(`${line}\n`);
    for (const l of listeners) l(line);
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", keep);

  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
  let running = true;
  const unregister = onProcessExit(() => {
    if (running) child.kill(exitSignal);
  });
  void exited.then(() => {
    running = false;
    unregister();
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5_000): Promise<void> =>
    (stopping ??= (async () => {
      if (!running) return;
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!gone) {
        child.kill("SIGKILL");
        await exited;
      }
    })());

  return {
    pid,
    name,
    process: child,
    exited,
    onLine: (l) => listeners.push(l),
    tail: () => tail,
    stop,
  };
}

/** Waits for the first stdout line matching `match`; fails if the child exits or the time runs out. */
export function waitForLine<T>(
  child: BenchChild,
  match: (line: string) => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(
      () => finish(new Error(`${child.name}: timed out after ${timeoutMs} ms waiting for ${what}\n${child.tail()}`)),
      timeoutMs,
    );
    const finish = (result: Error | { value: T }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (result instanceof Error) reject(result);
      else resolve(result.value);
    };
    child.onLine((line) => {
      const value = match(line);
      if (value !== undefined) finish({ value });
    });
    void child.exited.then((code) =>
      finish(new Error(`${child.name} exited (code ${code}) before ${what}\n${child.tail()}`)),
    );
  });
}

/** Runs a child to completion and returns its stdout lines; a non-zero exit is an error with its stderr. */
export async function runToCompletion(child: BenchChild): Promise<string[]> {
  const lines: string[] = [];
  child.onLine((l) => lines.push(l));
  const code = await child.exited;
  if (code !== 0) throw new Error(`${child.name} failed (exit ${code})\n${child.tail()}`);
  return lines;
}

// `.simulation/pids.json`: which processes a running simulation owns, so `make stop-simulation` (in
// another terminal, or after the supervising script died) can end exactly those and nothing else.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../devchain/paths.js";

export const DEFAULT_PID_FILE = path.join(REPO_ROOT, ".simulation", "pids.json");
export const DEFAULT_LOG_DIR = path.join(REPO_ROOT, "logs");

export interface SimulationRecord {
  /** The script that started everything; stopping it first lets it shut the rest down in order. */
  supervisor: { pid: number; script: string };
  startedAt: string;
  deploymentFile: string | undefined;
  rpcUrl: string;
  anvilPid: number;
  nodes: Array<{
    name: string;
    pid: number;
    url: string;
    wallet: string;
    instanceId: string;
    logFile: string | undefined;
  }>;
}

export function writeSimulationRecord(file: string, record: SimulationRecord): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // Write-then-rename: a concurrent stop-simulation never reads half a file.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(partial, file);
}

/** The record, or undefined when there is none; a file that is not a record is reported as such. */
export function readSimulationRecord(file: string): SimulationRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const raw = JSON.parse(text) as Partial<SimulationRecord>;
  const pid = (value: unknown): boolean => typeof value === "number" && Number.isSafeInteger(value) && value > 0;
  if (
    !raw.supervisor ||
    !pid(raw.supervisor.pid) ||
    !pid(raw.anvilPid) ||
    !Array.isArray(raw.nodes) ||
    !raw.nodes.every((n) => pid(n?.pid))
  ) {
    throw new Error(`${file} is not a simulation PID file`);
  }
  return raw as SimulationRecord;
}

export function removeSimulationRecord(file: string): void {
  rmSync(file, { force: true });
}

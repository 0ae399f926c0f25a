// CPU time of another process from /proc/<pid>/stat (Linux). process.cpuUsage() only sees the
// calling process, and the node under test is a separate one.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // The Linux default (USER_HZ) almost everywhere.
    }
  }
  return ticksPerSecond;
}

/** User and system CPU milliseconds consumed so far by `pid` (resolution: one clock tick, 10 ms). */
export function processCpuTimes(pid: number): { userMs: number; systemMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) is parenthesised and may contain spaces; count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so utime (14) and stime (15) are rest[11] and rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc/${pid}/stat format`);
  return { userMs: (utime * 1000) / clockTicks(), systemMs: (stime * 1000) / clockTicks() };
}

/** User + system CPU milliseconds consumed so far by `pid`. */
export function processCpuMs(pid: number): number {
  const t = processCpuTimes(pid);
  return t.userMs + t.systemMs;
}

/** This process's own user + system CPU milliseconds (microsecond resolution). */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * CPU milliseconds the whole machine has spent busy (all cores, everything but idle and iowait),
 * from the first line of /proc/stat. Busy time minus what the benchmark's own processes used is
 * what the neighbours took: the number that says how noisy a run was.
 */
export function machineBusyCpuMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice).
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return ((user + nice + system + irq + softirq + steal) * 1000) / clockTicks();
}

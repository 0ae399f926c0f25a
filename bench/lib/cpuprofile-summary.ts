// Summarizes a V8 .cpuprofile (node --cpu-prof) as the functions with the most self time and the
// most inclusive (self + callees) time, so a benchmark run can say where the node's CPU went.
// Run: npx tsx bench/lib/cpuprofile-summary.ts <file.cpuprofile> [--top 25] [--skip-ms 0]
//   --skip-ms drops the first milliseconds of samples (start-up and module compilation).
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseFlags, positiveNumber } from "./args.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function label(node: ProfileNode): string {
  const f = node.callFrame;
  const name = f.functionName || "(anonymous)";
  if (!f.url) return name;
  let file = f.url.replace(/^file:\/\//, "");
  const nm = file.lastIndexOf("node_modules/");
  file = nm >= 0 ? file.slice(nm + "node_modules/".length) : path.relative(process.cwd(), file);
  return `${name} ${file}:${f.lineNumber + 1}`;
}

/** The call paths (up to `depth` frames) that end in a function whose label contains `needle`, by time. */
export function callers(profile: CpuProfile, needle: string, skipMs: number, top: number, depth = 6): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const paths = new Map<string, number>();
  let t = profile.startTime;
  const skipUntil = profile.startTime + skipMs * 1000;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < skipUntil) continue;
    let id: number | undefined = profile.samples[i];
    // Find the innermost frame matching the needle, then walk `depth` frames up from it.
    while (id !== undefined && !label(byId.get(id) as ProfileNode).includes(needle)) id = parent.get(id);
    if (id === undefined) continue;
    const chain: string[] = [];
    for (let d = 0; d < depth && id !== undefined; d++, id = parent.get(id))
      chain.push(label(byId.get(id) as ProfileNode));
    const key = chain.join("  <-  ");
    paths.set(key, (paths.get(key) ?? 0) + dt);
  }
  return [...paths.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`)
    .join("\n");
}

export function summarize(profile: CpuProfile, skipMs: number, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let busy = 0;
  let t = profile.startTime;
  const skipUntil = profile.startTime + skipMs * 1000;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < skipUntil) continue;
    const node = byId.get(profile.samples[i] as number);
    if (!node) continue;
    total += dt;
    const name = label(node);
    self.set(name, (self.get(name) ?? 0) + dt);
    if (name === "(idle)" || name === "(program)") continue;
    busy += dt;
    // Each function once per sample, however often it recurses.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id) as ProfileNode);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
    }
  }
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number) => ((100 * us) / Math.max(busy, 1)).toFixed(1).padStart(5);
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .filter(([k]) => k !== "(root)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${ms(v)} ms ${pct(v)}%  ${k}`)
      .join("\n");
  return [
    `sampled ${(total / 1e6).toFixed(2)} s, busy (not idle/program) ${(busy / 1e6).toFixed(2)} s; % of busy`,
    `-- top self time --`,
    rows(self),
    `-- top inclusive time --`,
    rows(inclusive),
  ].join("\n");
}

const isMain =
  process.argv[1] &&
  path.resolve(process.argv[1]).replace(/\.ts$/, "") ===
    path.resolve(new URL(import.meta.url).pathname).replace(/\.ts$/, "");
if (isMain) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) throw new Error("usage: cpuprofile-summary.ts <file.cpuprofile> [--top N] [--skip-ms MS]");
  const f = parseFlags(
    rest,
    {
      top: { default: "25", help: "rows per table" },
      "skip-ms": { default: "0", help: "ignore samples before this offset" },
      callers: {
        default: "",
        help: "instead of the tables, the call paths into functions whose label contains this text",
      },
      depth: { default: "6", help: "frames per call path with --callers" },
    },
    "cpuprofile-summary.ts <file> [flags]",
  );
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const skip = Number(f["skip-ms"]) || 0;
  const top = Math.round(positiveNumber(f.top, "top"));
  const out = f.callers
    ? callers(profile, f.callers, skip, top, Math.round(positiveNumber(f.depth, "depth")))
    : summarize(profile, skip, top);
  process.stdout.write(`${out}\n`);
}

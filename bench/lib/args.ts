// Tiny `--name value` flag reader for the benchmarks: they take a handful of numbers and a path,
// which does not justify a CLI framework, but a typo must stop the run instead of being ignored.

export type FlagSpec = Record<string, { default: string; help: string }>;

export function parseFlags<S extends FlagSpec>(argv: string[], spec: S, usage: string): { [K in keyof S]: string } {
  const out: Record<string, string> = {};
  for (const [name, s] of Object.entries(spec)) out[name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") {
      const lines = Object.entries(spec).map(
        ([n, s]) => `  --${n} <value>   ${s.help} (default ${s.default || "unset"})`,
      );
      process.stdout.write(`${usage}\n${lines.join("\n")}\n`);
      process.exit(0);
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") ? arg.slice(2, eq === -1 ? undefined : eq) : "";
    if (!name || !(name in spec)) throw new Error(`unknown argument ${arg} (try --help)`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`--${name} needs a value`);
    out[name] = value;
  }
  return out as { [K in keyof S]: string };
}

/** A positive number from a flag, or an error naming the flag. */
export function positiveNumber(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${value}`);
  return n;
}

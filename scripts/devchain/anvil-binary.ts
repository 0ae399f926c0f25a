// Locates the anvil executable (the @foundry-rs/anvil-<platform> package). We run the binary directly
// rather than the package's node launcher (node_modules/.bin/anvil), because the launcher is a second
// process: killing it with SIGKILL would leave the real anvil orphaned.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ARCH_NAMES: Partial<Record<string, string>> = { x64: "amd64", arm64: "arm64" };

export function resolveAnvilBinary(): string {
  const fromEnv = process.env.ANVIL_BIN;
  if (fromEnv) return fromEnv;

  const require = createRequire(import.meta.url);
  const arch = ARCH_NAMES[process.arch];
  const exe = process.platform === "win32" ? "anvil.exe" : "anvil";
  if (arch) {
    try {
      const candidate = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/${exe}`);
      if (existsSync(candidate)) return candidate;
    } catch {
      // Not installed for this platform: fall back to the launcher below.
    }
  }
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const launcher = path.join(repoRoot, "node_modules", ".bin", "anvil");
  if (existsSync(launcher)) return launcher;
  throw new Error("anvil not found: run `npm ci` (it installs @foundry-rs/anvil-linux-amd64) or set ANVIL_BIN");
}

// Reads the contract artifacts Foundry writes to contracts/out (`npx forge build`), so scripts and
// tests deploy exactly what `forge test` tested instead of a second copy of the bytecode.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Abi, Hex } from "viem";

/** Repository root (this file lives in <root>/scripts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Foundry's output directory (`out` in foundry.toml). */
export const defaultArtifactsDir = path.join(repoRoot, "contracts", "out");

export interface ContractArtifact {
  abi: Abi;
  /** Creation bytecode, 0x-prefixed. */
  bytecode: Hex;
  /** Runtime bytecode, 0x-prefixed. */
  deployedBytecode: Hex;
}

export interface LoadArtifactOptions {
  /** Source file name when it differs from `<name>.sol`. */
  sourceFile?: string;
  /** Defaults to contracts/out of this repository. */
  outDir?: string;
}

/** Path of `contracts/out/<File>.sol/<Contract>.json`. */
export function artifactPath(name: string, options: LoadArtifactOptions = {}): string {
  const outDir = options.outDir ?? defaultArtifactsDir;
  return path.join(outDir, options.sourceFile ?? `${name}.sol`, `${name}.json`);
}

/**
 * Loads a compiled contract. Throws a message that says how to fix the usual cause (contracts not
 * built yet) instead of a bare ENOENT.
 */
export function loadArtifact(name: string, options: LoadArtifactOptions = {}): ContractArtifact {
  const file = artifactPath(name, options);
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`contract artifact ${file} is missing; run \`npx forge build\` (or \`make contracts\`) first`, {
      cause: error,
    });
  }
  const json = JSON.parse(raw) as {
    abi?: unknown;
    bytecode?: { object?: unknown };
    deployedBytecode?: { object?: unknown };
  };
  if (!Array.isArray(json.abi)) throw new Error(`${file}: no "abi" array`);
  return {
    abi: json.abi as Abi,
    bytecode: toHex(json.bytecode?.object, `${file}: bytecode.object`),
    deployedBytecode: toHex(json.deployedBytecode?.object, `${file}: deployedBytecode.object`),
  };
}

function toHex(value: unknown, what: string): Hex {
  if (typeof value !== "string" || !/^(0x)?[0-9a-fA-F]*$/.test(value)) throw new Error(`${what} is not hex`);
  return (value.startsWith("0x") ? value : `0x${value}`) as Hex;
}

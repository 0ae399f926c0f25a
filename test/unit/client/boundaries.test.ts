// The SDK and CLI must not pull in the node: client/ may import from enclave/ only the shared protocol
// module and the pure crypto functions, and the protocol module itself stays dependency-light.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../../..");

/** Module specifiers of every static import / re-export in the .ts files of `dir`, by file. */
function importsIn(dir: string): Array<{ file: string; from: string }> {
  const out: Array<{ file: string; from: string }> = [];
  for (const file of readdirSync(path.join(root, dir)).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(path.join(root, dir, file), "utf8");
    const statements = source.matchAll(/^(?:import|export)\b[^;]*?\sfrom\s+"([^"]+)"/gms);
    for (const match of statements) out.push({ file, from: match[1]! });
    for (const match of source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) out.push({ file, from: match[1]! });
  }
  return out;
}

// The CLI is the app-side composition root in simulation: it reads the chain and holds a simulated identity.
const CLI_ONLY = new Set(["../enclave/chain/registry-reader.js", "../enclave/tee/simulated.js"]);

describe("module boundaries", () => {
  it("client/ imports only enclave/protocol and enclave/crypto (the CLI: also a chain reader, a sim TEE)", () => {
    const imports = importsIn("client");
    // The scan sees multi-line imports (a broken pattern would pass vacuously).
    expect(imports).toContainEqual({ file: "signed-request.ts", from: "../enclave/protocol/signed-call.js" });
    const offending = imports
      .filter(({ from }) => from.startsWith("../enclave/"))
      .filter(({ from }) => !/^\.\.\/enclave\/(protocol|crypto)\//.test(from))
      .filter(({ file, from }) => !(file === "cli-program.ts" && CLI_ONLY.has(from)));
    expect(offending).toEqual([]);
  });

  it("enclave/protocol depends only on crypto, zod and viem types", () => {
    const allowed = /^(\.\/|\.\.\/crypto\/|zod$|viem$)/;
    const offending = importsIn("enclave/protocol").filter(({ from }) => !allowed.test(from));
    expect(offending).toEqual([]);
  });
});

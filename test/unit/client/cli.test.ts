// The CLI's commands, output and exit codes, through runCli with the SDK pointed at fake nodes.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveChainTarget, CliUsageError } from "../../../client/cli-config.js";
import { runCli, type CliIo } from "../../../client/cli-program.js";
import { NovaKmsClient } from "../../../client/nova-kms-client.js";
import { deriveAppKey } from "../../../enclave/crypto/kdf.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";
import {
  FAKE_CA_PEM,
  TEST_MASTER_SECRET,
  instanceOf,
  memoryRegistry,
  startFakeNode,
  type FakeNode,
} from "./fake-node.js";

const KMS_APP_ID = 7n;
const APP_ID = 42n;
const APP_SEED = "cli-test-app";

let node: FakeNode;
let dir: string;

beforeAll(async () => {
  node = await startFakeNode({
    seed: "cli-node",
    apps: [{ tee: new SimulatedTee({ seed: APP_SEED }), appId: APP_ID }],
  });
  dir = mkdtempSync(path.join(tmpdir(), "nova-kms-cli-"));
});

afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  node.misbehave = {};
});

interface Run {
  code: number;
  out: string;
  outBytes: Buffer;
  err: string;
}

async function cli(...argv: string[]): Promise<Run> {
  const out: Buffer[] = [];
  let err = "";
  const registry = memoryRegistry([instanceOf(node.tee, KMS_APP_ID, node.url)]);
  const io: CliIo = {
    stdout: (chunk) => void out.push(Buffer.from(chunk)),
    stderr: (text) => {
      err += text;
    },
    makeClient: (options, tee) =>
      new NovaKmsClient({
        tee,
        registry,
        kmsAppId: KMS_APP_ID,
        allowHttp: options.allowHttp ?? false,
        timeoutMs: 5_000,
      }),
  };
  const code = await runCli(argv, io);
  const outBytes = Buffer.concat(out);
  return { code, out: outBytes.toString(), outBytes, err };
}

const app = ["--app-seed", APP_SEED, "--allow-http"];

describe("nova-kms CLI", () => {
  it("derive prints the key as base64, or hex", async () => {
    const expected = Buffer.from(deriveAppKey(TEST_MASTER_SECRET, APP_ID, "disk", "vol-1", 16));
    const b64 = await cli(...app, "derive", "disk", "--context", "vol-1", "--length", "16");
    expect(b64).toMatchObject({ code: 0, out: `${expected.toString("base64")}\n`, err: "" });
    const hex = await cli(...app, "derive", "disk", "--context", "vol-1", "--length", "16", "--hex");
    expect(hex.out).toBe(`${expected.toString("hex")}\n`);
  });

  it("kv put / get / ls / del, with exit 3 for absent keys", async () => {
    expect((await cli(...app, "kv", "put", "greeting", "hi there", "--ttl-ms", "5000")).out).toMatch(
      /^stored greeting \(updated_at_ms \d+\)\n$/,
    );
    expect(node.seen.at(-1)!.body).toMatchObject({ ttl_ms: 5000 });
    await cli(...app, "kv", "put", "bin", "AP8B", "--base64");
    expect((await cli(...app, "kv", "get", "greeting")).out).toBe("hi there");
    expect((await cli(...app, "kv", "get", "bin")).outBytes).toEqual(Buffer.from([0, 255, 1]));
    expect((await cli(...app, "kv", "get", "bin", "--base64")).out).toBe("AP8B\n");
    expect((await cli(...app, "kv", "ls")).out.split("\n").filter(Boolean).sort()).toEqual(["bin", "greeting"]);
    expect(await cli(...app, "kv", "del", "greeting")).toMatchObject({ code: 0, out: "deleted greeting\n" });
    expect(await cli(...app, "kv", "get", "greeting")).toMatchObject({
      code: 3,
      out: "",
      err: "nova-kms: not found: greeting\n",
    });
    expect((await cli(...app, "kv", "del", "greeting")).code).toBe(3);
  });

  it("cert reads the CSR file and prints the certificate (and the CA with --chain)", async () => {
    const csr = path.join(dir, "app.csr");
    writeFileSync(csr, "-----BEGIN CERTIFICATE REQUEST-----\nabc\n-----END CERTIFICATE REQUEST-----\n");
    const run = await cli(...app, "cert", "--csr", csr, "--days", "10", "--chain");
    expect(run.code).toBe(0);
    expect(node.seen.at(-1)!.body).toMatchObject({ validity_days: 10 });
    expect(run.out.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(run.out.endsWith(FAKE_CA_PEM)).toBe(true);
    expect((await cli(...app, "cert", "--csr", path.join(dir, "missing.csr"))).code).toBe(2);
  });

  it("ca, nodes and status need no app identity", async () => {
    expect((await cli("--allow-http", "ca")).out).toBe(FAKE_CA_PEM);
    const nodes = JSON.parse((await cli("--allow-http", "nodes")).out);
    expect(nodes).toEqual([
      expect.objectContaining({
        url: node.url,
        wallet: node.wallet,
        tee_pubkey: Buffer.from(node.tee.identity.teePubkeySpki).toString("hex"),
      }),
    ]);
    const all = JSON.parse((await cli("--allow-http", "status")).out);
    expect(all[0].status.node.tee_wallet).toBe(node.wallet);
    const one = JSON.parse((await cli("status", "--url", node.url)).out);
    expect(Object.keys(one).sort()).toEqual(["cluster", "data_store", "kms", "node"]);
    expect(one.node.tee_wallet).toBe(node.wallet);
  });

  it("refuses http node URLs unless --allow-http", async () => {
    const run = await cli("--app-seed", APP_SEED, "derive", "x");
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/no usable KMS node.*http:\/\/ node URLs are refused/);
  });

  it("prints one clear line and exits 1 on a node refusal", async () => {
    node.misbehave.kmsStatus = 403;
    const run = await cli(...app, "derive", "x");
    expect(run.code).toBe(1);
    expect(run.err).toBe(`nova-kms: ${node.url} answered 403 forbidden: told to fail\n`);
  });

  it("exits 2 on usage errors", async () => {
    expect((await cli("--allow-http", "derive", "x")).err).toMatch(/--app-seed is required/);
    expect((await cli("--allow-http", "derive", "x")).code).toBe(2);
    expect((await cli(...app, "derive", "x", "--length", "0")).code).toBe(2);
    expect((await cli(...app, "frobnicate")).code).toBe(2);
    expect((await cli(...app, "kv", "put", "k", "not base64!", "--base64")).code).toBe(2);
  });
});

describe("chain target resolution", () => {
  const deployment = () => {
    const file = path.join(dir, "deployment.json");
    writeFileSync(
      file,
      JSON.stringify({
        rpcUrl: "http://127.0.0.1:8545",
        chainId: 31337,
        novaAppRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        kmsRegistry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
        kmsAppId: "1",
      }),
    );
    return file;
  };

  it("reads the deployment file and lets flags override it", () => {
    const file = deployment();
    expect(resolveChainTarget({ deployment: file })).toEqual({
      rpcUrl: "http://127.0.0.1:8545",
      novaAppRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      kmsRegistry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
      kmsAppId: 1n,
    });
    expect(resolveChainTarget({ deployment: file, rpc: "http://other:1", kmsAppId: "5" })).toMatchObject({
      rpcUrl: "http://other:1",
      kmsAppId: 5n,
    });
  });

  it("works from flags alone and explains what is missing", () => {
    const none = path.join(dir, "absent.json");
    expect(
      resolveChainTarget({
        deployment: none,
        rpc: "http://r",
        registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        kmsAppId: "3",
      }).kmsAppId,
    ).toBe(3n);
    expect(() => resolveChainTarget({ deployment: none, rpc: "http://r" })).toThrow(CliUsageError);
    expect(() => resolveChainTarget({ deployment: none, rpc: "http://r" })).toThrow(
      /no deployment file at .*absent\.json/,
    );
    expect(() => resolveChainTarget({ deployment: none, rpc: "http://r", registry: "nope", kmsAppId: "3" })).toThrow(
      /--registry is not an address/,
    );
  });
});

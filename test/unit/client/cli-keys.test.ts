// The §12 commands' argument handling and output, without a node: usage errors must stop before any
// client is built (exit 2), and each command must hand the SDK what the user typed (stdin, files,
// repeated labels) and print the SDK's answer in the documented form. The SDK itself is replaced by
// a recorder here; the real round trip runs against real nodes in test/integration/keys-sdk.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { GlobalOptions } from "../../../client/cli-config.js";
import { runCli, type CliIo } from "../../../client/cli-program.js";
import { KmsConflictError, KmsRequestError } from "../../../client/errors.js";
import type { Key } from "../../../client/key-responses.js";
import type { NovaKmsClient } from "../../../client/nova-kms-client.js";
import { ENCLAVER_LABEL } from "../../../enclave/crypto/envelope.js";

const dir = mkdtempSync(path.join(tmpdir(), "nova-kms-cli-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sampleKey: Key = {
  name: "orders",
  purpose: "encrypt",
  primaryVersion: 1,
  rotationPeriodDays: 7,
  nextRotationAtMs: 2,
  createdAtMs: 1,
  description: "d",
  labels: { team: "billing" },
};

interface Call {
  method: string;
  args: unknown[];
}

let calls: Call[];
let clientsBuilt: number;
let lastOptions: GlobalOptions | undefined;
/** What the recorder answers, by method; a function may throw to play a node's refusal. */
let answers: Record<string, (...args: unknown[]) => unknown>;

beforeEach(() => {
  calls = [];
  clientsBuilt = 0;
  answers = {};
});

/** Buffers (file reads) as plain Uint8Arrays, so expectations compare bytes, not classes. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value && typeof value === "object" && !Array.isArray(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function recorder(): NovaKmsClient {
  const record =
    (method: string) =>
    async (...args: unknown[]) => {
      calls.push({ method, args: args.map(plain) });
      return answers[method]?.(...args);
    };
  const generator = (method: string) =>
    async function* (...args: unknown[]) {
      calls.push({ method, args });
      yield* (answers[method]?.(...args) as unknown[]) ?? [];
    };
  const keys = Object.fromEntries(
    ["create", "get", "update", "rotate", "version", "changeVersion", "encrypt", "decrypt", "reencrypt"]
      .concat(["dataKey", "sign", "verify", "publicKey", "mac", "verifyMac", "decryptAsymmetric"])
      .map((m) => [m, record(`keys.${m}`)]),
  );
  const secrets = Object.fromEntries(["put", "get", "delete"].map((m) => [m, record(`secrets.${m}`)]));
  return {
    keys: { ...keys, listAll: generator("keys.listAll"), allVersions: generator("keys.allVersions") },
    secrets: { ...secrets, listAll: generator("secrets.listAll") },
    random: record("random"),
  } as unknown as NovaKmsClient;
}

interface Run {
  code: number;
  out: string;
  outBytes: Buffer;
  err: string;
}

async function cli(argv: string[], stdin: string | Uint8Array = ""): Promise<Run> {
  const out: Buffer[] = [];
  let err = "";
  const io: CliIo = {
    stdout: (chunk) => void out.push(Buffer.from(chunk)),
    stderr: (text) => {
      err += text;
    },
    stdin: async () => (typeof stdin === "string" ? Buffer.from(stdin) : stdin),
    makeClient: (options) => {
      lastOptions = options;
      clientsBuilt++;
      return recorder();
    },
  };
  const code = await runCli(["--app-seed", "cli-keys-test", ...argv], io);
  const outBytes = Buffer.concat(out);
  return { code, out: outBytes.toString(), outBytes, err };
}

describe("usage errors stop before a client is built", () => {
  it.each([
    ["no --purpose", ["keys", "create", "k"]],
    ["an unknown purpose", ["keys", "create", "k", "--purpose", "sign-dsa"]],
    ["a label without =", ["keys", "create", "k", "--purpose", "mac", "--label", "team"]],
    ["a label without a key", ["keys", "create", "k", "--purpose", "mac", "--label", "=x"]],
    ["a rotation period past 3650 days", ["keys", "create", "k", "--purpose", "encrypt", "--rotation-days", "3651"]],
    ["version 0", ["keys", "disable", "k", "0"]],
    ["a version that is not a number", ["keys", "enable", "k", "one"]],
    ["no version", ["keys", "destroy", "k"]],
    ["a public-key version of 0", ["keys", "public-key", "k", "--version", "0"]],
    ["a short digest", ["keys", "sign", "k", "--digest", "abcd"]],
    ["both a digest and a message file", ["keys", "sign", "k", "--digest", "ab".repeat(32), "--message-file", "f"]],
    ["verify without a signature", ["keys", "verify", "k", "--digest", "ab".repeat(32)]],
    ["a non-hex signature", ["keys", "verify", "k", "--signature", "xyz"]],
    ["an update with nothing to change", ["keys", "update", "k"]],
    ["random 0", ["random", "0"]],
    ["random past 1024", ["random", "1025"]],
    ["a data key of 8 bytes", ["datakey", "k", "--bytes", "8"]],
    ["secrets put with --value and --in", ["secrets", "put", "s", "--value", "v", "--in", "f"]],
    ["a missing input file", ["encrypt", "k", "--in", path.join(dir, "absent")]],
    ["secrets get --version 0", ["secrets", "get", "s", "--version", "0"]],
  ])("%s → exit 2", async (_what, argv) => {
    const run = await cli(argv);
    expect(run.code).toBe(2);
    expect(calls).toEqual([]);
    expect(run.out).toBe("");
  });

  it("needs an app identity", async () => {
    const out: string[] = [];
    const io: CliIo = {
      stdout: (c) => void out.push(String(c)),
      stderr: (t) => void out.push(t),
      makeClient: recorder,
    };
    expect(await runCli(["keys", "get", "k"], io)).toBe(2);
    expect(out.join("")).toMatch(/--app-seed is required/);
  });
});

describe("keys commands", () => {
  it("create collects repeated labels and prints the key in the wire's shape", async () => {
    answers["keys.create"] = () => sampleKey;
    const run = await cli([
      "keys",
      "create",
      "orders",
      "--purpose",
      "encrypt",
      "--rotation-days",
      "7",
      "--description",
      "d",
      "--label",
      "team=billing",
      "--label",
      "env=a=b",
    ]);
    expect(run.code).toBe(0);
    expect(calls).toEqual([
      {
        method: "keys.create",
        args: [
          {
            name: "orders",
            purpose: "encrypt",
            rotationPeriodDays: 7,
            description: "d",
            labels: { team: "billing", env: "a=b" },
          },
        ],
      },
    ]);
    expect(JSON.parse(run.out)).toEqual({
      name: "orders",
      purpose: "encrypt",
      primary_version: 1,
      rotation_period_days: 7,
      next_rotation_at_ms: 2,
      created_at_ms: 1,
      description: "d",
      labels: { team: "billing" },
    });
  });

  it("a key's --label is its own; the global --label (envelope) comes before the command", async () => {
    answers["keys.create"] = () => sampleKey;
    const run = await cli(["--label", "enclaver", "keys", "create", "k", "--purpose", "mac", "--label", "a=b"]);
    expect(run.code).toBe(0);
    expect(lastOptions?.label).toBe(ENCLAVER_LABEL);
    expect(calls[0]!.args).toEqual([{ name: "k", purpose: "mac", labels: { a: "b" } }]);
    // Without a global --label, the key's labels must not become the envelope label.
    await cli(["keys", "create", "k", "--purpose", "mac", "--label", "a=b"]);
    expect(lastOptions?.label).toBeUndefined();
    expect(calls[1]!.args).toEqual([{ name: "k", purpose: "mac", labels: { a: "b" } }]);
  });

  it("create sends only the options given", async () => {
    answers["keys.create"] = () => sampleKey;
    await cli(["keys", "create", "orders", "--purpose", "sign-p256"]);
    expect(calls[0]!.args).toEqual([{ name: "orders", purpose: "sign-p256" }]);
  });

  it("list and versions print every item of every page as one JSON array", async () => {
    answers["keys.listAll"] = () => [sampleKey, { ...sampleKey, name: "two" }];
    const list = await cli(["keys", "list", "--page-size", "1"]);
    expect(calls[0]).toEqual({ method: "keys.listAll", args: [{ pageSize: 1 }] });
    expect(JSON.parse(list.out).map((k: { name: string }) => k.name)).toEqual(["orders", "two"]);
    answers["keys.allVersions"] = () => [{ version: 1, state: "DESTROY_SCHEDULED", createdAtMs: 1, destroyAtMs: 9 }];
    const versions = await cli(["keys", "versions", "orders"]);
    expect(JSON.parse(versions.out)).toEqual([
      { version: 1, state: "DESTROY_SCHEDULED", created_at_ms: 1, destroy_at_ms: 9 },
    ]);
  });

  it("version actions pass the version as a number", async () => {
    answers["keys.changeVersion"] = () => ({ version: 2, state: "DISABLED", createdAtMs: 3 });
    const run = await cli(["keys", "disable", "orders", "2"]);
    expect(calls).toEqual([{ method: "keys.changeVersion", args: ["orders", 2, "disable"] }]);
    expect(JSON.parse(run.out)).toEqual({ version: 2, state: "DISABLED", created_at_ms: 3 });
  });

  it("a 409 exits 1 with the node's message", async () => {
    answers["keys.changeVersion"] = () => {
      throw new KmsConflictError(409, "conflict", "the primary version cannot be disabled", "http://n");
    };
    const run = await cli(["keys", "disable", "orders", "1"]);
    expect(run).toMatchObject({
      code: 1,
      err: "nova-kms: http://n answered 409 conflict: the primary version cannot be disabled\n",
    });
  });

  it("update sends the changes given", async () => {
    answers["keys.update"] = () => sampleKey;
    await cli(["keys", "update", "orders", "--primary-version", "3", "--rotation-days", "0"]);
    expect(calls[0]!.args).toEqual(["orders", { rotationPeriodDays: 0, primaryVersion: 3 }]);
  });

  it("sign reads the message from stdin or a file, or takes a digest", async () => {
    answers["keys.sign"] = () => ({ signature: "abcd", version: 1 });
    expect((await cli(["keys", "sign", "wallet"], "hello")).out).toBe("abcd\n");
    expect(calls[0]!.args).toEqual(["wallet", { message: new Uint8Array(Buffer.from("hello")) }]);
    const file = path.join(dir, "message.bin");
    writeFileSync(file, Buffer.from([0, 1, 2]));
    await cli(["keys", "sign", "wallet", "--message-file", file]);
    expect(calls[1]!.args).toEqual(["wallet", { message: new Uint8Array([0, 1, 2]) }]);
    const digest = `0x${"ab".repeat(32)}`;
    const json = await cli(["keys", "sign", "wallet", "--digest", digest, "--json"]);
    expect(calls[2]!.args).toEqual(["wallet", { digest }]);
    expect(JSON.parse(json.out)).toEqual({ signature: "abcd", version: 1 });
  });

  it("verify prints valid (exit 0) or invalid (exit 1)", async () => {
    answers["keys.verify"] = () => true;
    expect(await cli(["keys", "verify", "w", "--signature", "0xab", "--version", "2"], "m")).toMatchObject({
      code: 0,
      out: "valid\n",
    });
    expect(calls[0]!.args).toEqual(["w", { message: new Uint8Array(Buffer.from("m")) }, "0xab", { version: 2 }]);
    answers["keys.verify"] = () => false;
    expect(await cli(["keys", "verify", "w", "--signature", "ab"], "m")).toMatchObject({
      code: 1,
      out: "invalid\n",
      err: "",
    });
  });

  it("public-key prints the PEM, or JSON with the address", async () => {
    answers["keys.publicKey"] = () => ({ pem: "PEM", version: 4, address: "0xabc" });
    expect((await cli(["keys", "public-key", "w"])).out).toBe("PEM\n");
    expect(calls[0]!.args).toEqual(["w", {}]);
    const json = await cli(["keys", "public-key", "w", "--version", "4", "--json"]);
    expect(calls[1]!.args).toEqual(["w", { version: 4 }]);
    expect(JSON.parse(json.out)).toEqual({ pem: "PEM", version: 4, address: "0xabc" });
  });
});

describe("data commands", () => {
  it("encrypt reads raw stdin and prints the ciphertext line", async () => {
    answers["keys.encrypt"] = () => ({ ciphertext: "nkms1:xyz", version: 1 });
    const bytes = new Uint8Array([0, 255, 10]);
    const run = await cli(["encrypt", "orders", "--aad", "ctx"], bytes);
    expect(run).toMatchObject({ code: 0, out: "nkms1:xyz\n" });
    expect(calls[0]!.args).toEqual(["orders", bytes, { aad: "ctx" }]);
  });

  it("decrypt takes the ciphertext line and writes the plaintext bytes unchanged", async () => {
    const plaintext = new Uint8Array([0xff, 0, 0x0a]);
    answers["keys.decrypt"] = () => ({ plaintext, key: "orders", version: 1 });
    const run = await cli(["decrypt"], "  nkms1:xyz\n");
    expect(calls[0]!.args).toEqual(["nkms1:xyz", {}]);
    expect(run.outBytes).toEqual(Buffer.from(plaintext));
    const file = path.join(dir, "ct.txt");
    writeFileSync(file, "nkms1:abc\n");
    await cli(["decrypt", "--in", file, "--aad", "ctx"]);
    expect(calls[1]!.args).toEqual(["nkms1:abc", { aad: "ctx" }]);
  });

  it("decrypt refuses input that is not text", async () => {
    expect((await cli(["decrypt"], new Uint8Array([0xff, 0xfe]))).code).toBe(2);
    expect(calls).toEqual([]);
  });

  it("datakey prints JSON with the plaintext as base64, or without it", async () => {
    answers["keys.dataKey"] = () => ({ ciphertext: "nkms1:k", plaintext: new Uint8Array([1, 2]), version: 3 });
    const run = await cli(["datakey", "sealer", "--bytes", "16"]);
    expect(calls[0]!.args).toEqual(["sealer", { bytes: 16, withPlaintext: true }]);
    expect(JSON.parse(run.out)).toEqual({ ciphertext: "nkms1:k", plaintext: "AQI=", version: 3 });
    answers["keys.dataKey"] = () => ({ ciphertext: "nkms1:k", version: 3 });
    const bare = await cli(["datakey", "sealer", "--no-plaintext"]);
    expect(calls[1]!.args).toEqual(["sealer", { withPlaintext: false }]);
    expect(JSON.parse(bare.out)).toEqual({ ciphertext: "nkms1:k", version: 3 });
  });

  it("random prints base64 or hex", async () => {
    answers.random = () => new Uint8Array([0xde, 0xad]);
    expect((await cli(["random", "2"])).out).toBe("3q0=\n");
    expect((await cli(["random", "2", "--hex"])).out).toBe("dead\n");
    expect(calls.map((c) => c.args)).toEqual([[2], [2]]);
  });
});

describe("secrets commands", () => {
  it("put takes the value from stdin, --value or --in", async () => {
    answers["secrets.put"] = (name) => ({ name, version: 2 });
    const run = await cli(["secrets", "put", "db"], "pw\n");
    expect(calls[0]!.args).toEqual(["db", new Uint8Array(Buffer.from("pw\n"))]);
    expect(JSON.parse(run.out)).toEqual({ name: "db", version: 2 });
    await cli(["secrets", "put", "db", "--value", "inline"]);
    expect(calls[1]!.args).toEqual(["db", "inline"]);
  });

  it("get writes the raw value; a 404 exits 3", async () => {
    answers["secrets.get"] = () => ({ name: "db", version: 1, value: new Uint8Array([1, 0, 2]) });
    const run = await cli(["secrets", "get", "db", "--version", "1"]);
    expect(calls[0]!.args).toEqual(["db", { version: 1 }]);
    expect(run.outBytes).toEqual(Buffer.from([1, 0, 2]));
    expect((await cli(["secrets", "get", "db", "--base64"])).out).toBe("AQAC\n");
    answers["secrets.get"] = () => {
      throw new KmsRequestError(404, "not_found", "no such secret", "http://n");
    };
    expect(await cli(["secrets", "get", "gone"])).toMatchObject({
      code: 3,
      out: "",
      err: "nova-kms: not found: gone\n",
    });
    answers["secrets.delete"] = answers["secrets.get"];
    expect((await cli(["secrets", "delete", "gone"])).code).toBe(3);
  });

  it("list prints summaries in the wire's shape; delete confirms", async () => {
    answers["secrets.listAll"] = () => [{ name: "db", latestVersion: 2, updatedAtMs: 5 }];
    expect(JSON.parse((await cli(["secrets", "list"])).out)).toEqual([
      { name: "db", latest_version: 2, updated_at_ms: 5 },
    ]);
    answers["secrets.delete"] = () => true;
    expect((await cli(["secrets", "delete", "db"])).out).toBe("deleted db\n");
  });
});

it("builds one client per command that needs the node", async () => {
  answers["keys.get"] = () => sampleKey;
  await cli(["keys", "get", "orders"]);
  expect(clientsBuilt).toBe(1);
});

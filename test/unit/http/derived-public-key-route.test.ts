// GET /derived_public_key in process (app.request()): the signed answer, every input refusal (400),
// 503 while the node does not serve, 409 for a derived value that is no secp256k1 key.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { verifyDerivedPublicKey } from "../../../enclave/crypto/derived-public-key.js";
import { addressFromPrivateKey } from "../../../enclave/crypto/secp256k1.js";
import { KmsError } from "../../../enclave/errors.js";
import type { RootEnv } from "../../../enclave/http/context.js";
import { handleError } from "../../../enclave/http/middleware/errors.js";
import { derivedPublicKeyRoutes } from "../../../enclave/http/routes/derived-public-key.js";
import { ServerChannel } from "../../../enclave/http/server-channel.js";
import { createLogger } from "../../../enclave/log.js";
import { ServingKeys } from "../../../enclave/serving-keys.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const node = new SimulatedTee({ seed: "dpk-route-node" });
const keys = new ServingKeys(new Uint8Array(32).fill(5));

function server(requireKeys: () => Pick<ServingKeys, "appKey"> = () => keys) {
  const root = new Hono<RootEnv>();
  root.onError(handleError(createLogger("silent")));
  root.route("/", derivedPublicKeyRoutes({ requireKeys, signer: new ServerChannel(node, node.identity.wallet) }));
  return root;
}

const get = async (query: string, app = server()) => {
  const res = await app.request(`/derived_public_key${query}`);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};

describe("GET /derived_public_key", () => {
  it("answers the derive key's public half, signed by the node", async () => {
    const { status, body } = await get("?app_id=42&path=wallet%2Froot&context=session+a");
    expect(status).toBe(200);
    const key = keys.appKey(42n, "wallet/root", "session a", 32);
    expect(body).toMatchObject({
      app_id: "42",
      path: "wallet/root",
      context: "session a",
      node_wallet: node.identity.wallet,
    });
    expect(body.address).toBe(addressFromPrivateKey(key));
    expect(Object.keys(body).sort()).toEqual(
      ["address", "app_id", "context", "node_wallet", "path", "public_key", "signature"].sort(),
    );
    const asked = { appId: 42n, path: "wallet/root", context: "session a" };
    expect(() => verifyDerivedPublicKey(body as never, asked, node.identity.wallet)).not.toThrow();
  });

  it("takes an absent context as empty (the same key as /kms/derive without one)", async () => {
    const { status, body } = await get("?app_id=7&path=p");
    expect(status).toBe(200);
    expect(body.context).toBe("");
    expect(body.address).toBe(addressFromPrivateKey(keys.appKey(7n, "p", undefined, 32)));
    expect((await get("?app_id=7&path=p&context=")).body.address).toBe(body.address);
  });

  it("answers ids up to 2^256-1 as decimal strings", async () => {
    const max = ((1n << 256n) - 1n).toString();
    const { status, body } = await get(`?app_id=${max}&path=p`);
    expect(status).toBe(200);
    expect(body.app_id).toBe(max);
  });

  it.each([
    ["", /app_id/],
    ["?path=p", /app_id/],
    ["?app_id=0&path=p", /app_id/],
    ["?app_id=007&path=p", /app_id/],
    ["?app_id=-1&path=p", /app_id/],
    ["?app_id=0x2a&path=p", /app_id/],
    ["?app_id=1.5&path=p", /app_id/],
    [`?app_id=${(1n << 256n).toString()}&path=p`, /app_id/],
    ["?app_id=1", /path/],
    ["?app_id=1&path=", /path/],
    [`?app_id=1&path=${"p".repeat(1025)}`, /path/],
    [`?app_id=1&path=p&context=${"c".repeat(4097)}`, /context/],
    ["?app_id=1&path=p&context=a%3A", /context must not end with ':'/],
    ["?app_id=1&path=p&path=q", /path: given more than once/],
    ["?app_id=1&path=p&length=64", /unknown parameter "length"/],
    ["?app_id=1&path=%E0%A4%A", /path: malformed/],
    ["?app_id=1&path=%ED%A0%80", /path: malformed/],
  ])("refuses %s with 400", async (query, message) => {
    const { status, body } = await get(query);
    expect(status).toBe(400);
    expect(body.code).toBe("bad_request");
    expect(body.message).toMatch(message);
  });

  it("answers 503 with the readiness reason while the node does not serve", async () => {
    const app = server(() => {
      throw new KmsError("service_unavailable", "Service not ready: master secret not yet agreed");
    });
    const { status, body } = await get("?app_id=1&path=p", app);
    expect(status).toBe(503);
    expect(body).toEqual({ code: "service_unavailable", message: "Service not ready: master secret not yet agreed" });
  });

  it("answers 409 (not 500) when the derived value is no secp256k1 private key", async () => {
    for (const value of [new Uint8Array(32), new Uint8Array(32).fill(0xff)]) {
      const { status, body } = await get(
        "?app_id=1&path=p",
        server(() => ({ appKey: () => value.slice() })),
      );
      expect(status).toBe(409);
      expect(body.code).toBe("conflict");
      expect(body.message).toMatch(/not a valid secp256k1 private key/);
    }
  });
});

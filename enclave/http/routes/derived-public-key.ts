// GET /derived_public_key?app_id=&path=&context= (PROTOCOL.md §12; public, no auth): the public half
// of the secp256k1 key an app gets from `/kms/derive` with that path and context (32 bytes), with
// the node's signature over `NovaKMS:DerivedPublicKey:<app_id>:<path>:<context>:<address>`, so a
// dapp can register an app's future address before the app first runs. Answered only while the
// node serves (503 with the reason otherwise, like /kms/ca); the per-address rate limit applies.
import { type Context, Hono } from "hono";
import { bytesToHex } from "../../crypto/bytes.js";
import {
  checkDerivedKeyRequest,
  DERIVED_PRIVATE_KEY_BYTES,
  DerivedPublicKeyError,
  derivedPublicKey,
  NotASecp256k1KeyError,
  type DerivedKeyRequest,
  type DerivedPublicKeyAnswer,
} from "../../crypto/derived-public-key.js";
import { badRequest, KmsError } from "../../errors.js";
import type { ServingKeys } from "../../serving-keys.js";
import type { ServerChannel } from "../server-channel.js";

export interface DerivedPublicKeyRouteDeps {
  /** The served secret's keys, or a 503 naming why the node does not serve. */
  requireKeys: () => Pick<ServingKeys, "appKey">;
  signer: Pick<ServerChannel, "signDerivedPublicKey">;
}

const PARAMS = new Set(["app_id", "path", "context"]);
// uint256 has at most 78 decimal digits; leading zeros are refused so one id has one spelling.
const APP_ID_RE = /^[1-9][0-9]{0,77}$/;

/** One form-decoded component (`+` is a space); malformed escapes or UTF-8 are a 400, never passed on. */
function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    throw badRequest(`Invalid ${name}: malformed percent-encoding`);
  }
}

/** The query, strictly: known names only, each at most once, decoded without guessing. */
function readQuery(c: Context): Map<string, string> {
  const url = c.req.url;
  const q = url.indexOf("?");
  const params = new Map<string, string>();
  if (q < 0) return params;
  for (const part of url.slice(q + 1).split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeParam("parameter name", eq < 0 ? part : part.slice(0, eq));
    if (!PARAMS.has(name)) throw badRequest(`Invalid query: unknown parameter ${JSON.stringify(name.slice(0, 64))}`);
    if (params.has(name)) throw badRequest(`Invalid ${name}: given more than once`);
    params.set(name, eq < 0 ? "" : decodeParam(name, part.slice(eq + 1)));
  }
  return params;
}

function parseRequest(c: Context): DerivedKeyRequest {
  const params = readQuery(c);
  const appId = params.get("app_id");
  if (appId === undefined || !APP_ID_RE.test(appId))
    throw badRequest("Invalid app_id: must be a decimal integer in 1..2^256-1");
  const path = params.get("path");
  if (path === undefined || path.length === 0) throw badRequest("Invalid path: must be a non-empty string");
  const request = { appId: BigInt(appId), path, context: params.get("context") ?? "" };
  try {
    checkDerivedKeyRequest(request);
  } catch (e) {
    if (e instanceof DerivedPublicKeyError) throw badRequest(`Invalid request: ${e.message}`);
    throw e;
  }
  return request;
}

export function derivedPublicKeyRoutes(deps: DerivedPublicKeyRouteDeps) {
  return new Hono().get("/derived_public_key", async (c) => {
    const request = parseRequest(c);
    const key = deps.requireKeys().appKey(request.appId, request.path, request.context, DERIVED_PRIVATE_KEY_BYTES);
    let derived: { publicKey: Uint8Array; address: string };
    try {
      derived = derivedPublicKey(key);
    } catch (e) {
      // Deterministic for this app, path and context on every node: another node would say the same.
      if (e instanceof NotASecp256k1KeyError) throw new KmsError("conflict", e.message);
      throw e;
    } finally {
      key.fill(0);
    }
    const { nodeWallet, signature } = await deps.signer.signDerivedPublicKey(request, derived.address);
    const answer: DerivedPublicKeyAnswer = {
      app_id: request.appId.toString(),
      path: request.path,
      context: request.context,
      public_key: bytesToHex(derived.publicKey),
      address: derived.address,
      node_wallet: nodeWallet,
      signature,
    };
    return c.json(answer);
  });
}

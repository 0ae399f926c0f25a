// HTTP fuzzing of one node (test/integration/http-fuzz.test.ts: bounded, in `make test`;
// bench/fuzz.ts: long). Seeded fast-check cases, each one request, of five kinds:
//   raw     any method, path (percent-escapes, dot segments, unicode), headers (PoP, dev wallet,
//           sync, proxy, content type), body (text, JSON, envelope-shaped, past the size limits)
//   socket  bytes a client library would never send: broken request lines, header syntax,
//           Content-Length / Transfer-Encoding conflicts (always complete, so nothing waits)
//   pop     a registered app's request with one PoP header broken
//   sealed  a valid PoP with the envelope broken (sender key, nonce, ciphertext, shape)
//   inner   a valid PoP and envelope around fuzzed inner JSON for each /kms route
// Every answer must carry a status the API documents; a 5xx, a hang or a dropped connection on a
// well-formed request is a finding.
import fc from "fast-check";
import { connect } from "node:net";
import { Pool } from "undici";
import { bytesToHex, utf8 } from "../../enclave/crypto/bytes.js";
import { canonicalJson } from "../../enclave/crypto/canonical-json.js";
import { CAPSULE_LABEL, ENCLAVER_LABEL, type Envelope } from "../../enclave/crypto/envelope.js";
import { appAuthMessage } from "../../enclave/crypto/pop.js";
import { SimulatedTee } from "../../enclave/tee/simulated.js";

export interface FuzzTarget {
  url: string;
  /** The node's on-chain wallet and teePubkey (SEC1 or SPKI). */
  wallet: string;
  teePublicKey: Uint8Array;
  /** A registered app's identity, for requests that get past the PoP and registry checks. */
  app: SimulatedTee;
}

/** What the node may answer (README "API"; 409 from named keys); 405 is not: an unknown method is a 404. */
export const DOCUMENTED_STATUSES: ReadonlySet<number> = new Set([200, 400, 403, 404, 409, 413, 429, 503]);

type Method = "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" | "PROPFIND";
type PopFault =
  | "bad_signature"
  | "other_signer"
  | "other_recipient"
  | "stale"
  | "future"
  | "timestamp_text"
  | "unknown_nonce"
  | "nonce_colon"
  | "wallet_mismatch"
  | "wallet_junk"
  | "no_signature"
  | "no_nonce"
  | "no_timestamp"
  | "dev_wallet_junk";
type EnvelopeFault =
  | "not_json"
  | "plaintext"
  | "array"
  | "stranger_sender"
  | "sender_junk"
  | "nonce_short"
  | "nonce_junk"
  | "data_truncated"
  | "data_flipped"
  | "data_empty"
  | "extra_field"
  | "missing_field";

/** An app route: where, and a body that route accepts (for the inner kind to mutate). */
interface AppRoute {
  method: Method;
  path: string;
  body?: Record<string, unknown>;
}

export type FuzzCase =
  | { kind: "raw"; method: Method; path: string; headers: Record<string, string>; body: RawBody }
  | { kind: "socket"; bytes: string }
  | { kind: "pop"; route: AppRoute; fault: PopFault }
  | { kind: "sealed"; route: AppRoute; fault: EnvelopeFault }
  | { kind: "inner"; route: AppRoute; body: unknown; enclaver: boolean };

/** A raw body; `padding` bytes of filler go after `text` (bodies past the limits, generated lazily). */
type RawBody = { text: string; padding: number } | undefined;

const MiB = 1024 * 1024;
const SIMPLE_KEY = "fuzz-key";
const KNOWN_PATHS = [
  "/",
  "/health",
  "/status",
  "/nodes",
  "/nonce",
  "/metrics",
  "/kms",
  "/kms/",
  "/kms/ca",
  "/derived_public_key",
  "/derived_public_key?app_id=1&path=p&context=c",
  "/kms/derive",
  "/kms/data",
  `/kms/data/${SIMPLE_KEY}`,
  "/kms/sign_cert",
  "/kms/keys",
  "/kms/keys/fuzz-key/versions/1/destroy",
  "/kms/decrypt",
  "/kms/secrets/fuzz-secret",
  "/sync",
];
const PATH_PIECES = [
  "%",
  "%2F",
  "%25",
  "%zz",
  "%E2%82%AC",
  "%C3%28",
  "%00",
  "%FF",
  "..",
  ".",
  "/",
  "//",
  "+",
  ";",
  "~",
];
const HEADER_NAMES = [
  "x-app-signature",
  "x-app-nonce",
  "x-app-timestamp",
  "x-app-wallet",
  "x-tee-wallet",
  "x-kms-signature",
  "x-kms-nonce",
  "x-kms-timestamp",
  "x-kms-wallet",
  "x-sync-signature",
  "x-forwarded-for",
  "content-type",
  "content-encoding",
  "accept",
];

const token = fc.stringMatching(/^[A-Za-z0-9._-]{0,12}$/);
/** Header-safe text (visible ASCII and spaces): what an HTTP client lets through. */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
const hexish = fc.oneof(
  fc.uint8Array({ maxLength: 80 }).map((b) => `0x${bytesToHex(b)}`),
  fc.uint8Array({ maxLength: 80 }).map(bytesToHex),
  headerText,
);
const fuzzPath = fc.oneof(
  fc.constantFrom(...KNOWN_PATHS),
  fc
    .tuple(
      fc.constantFrom(...KNOWN_PATHS),
      fc.array(fc.oneof(fc.constantFrom(...PATH_PIECES), token), { maxLength: 6 }),
    )
    .map(([base, pieces]) => `${base}${pieces.join("")}`),
  fc.tuple(fc.constantFrom("/kms/data", "/nonce"), token, fc.string()).map(([base, name, value]) => {
    return `${base}?${name}=${encodeURIComponent(value)}`;
  }),
  fc.string().map((s) => `/kms/data/${encodeURIComponent(s)}`),
);

const envelopeShaped = fc.record(
  { sender_tee_pubkey: hexish, nonce: hexish, encrypted_data: hexish, extra: fc.jsonValue() },
  { requiredKeys: [] },
);
const rawBody: fc.Arbitrary<RawBody> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.string().map((text) => ({ text, padding: 0 })) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => ({ text: JSON.stringify(v) ?? "null", padding: 0 })) },
  { weight: 2, arbitrary: envelopeShaped.map((v) => ({ text: JSON.stringify(v), padding: 0 })) },
  // Past MAX_BODY_BYTES (64 KiB) and past MAX_KV_BODY_BYTES (3 MiB).
  { weight: 1, arbitrary: fc.constantFrom(65 * 1024, 3 * MiB + 1).map((padding) => ({ text: '{"a":"', padding })) },
);

const rawCase = fc.record({
  kind: fc.constant("raw" as const),
  method: fc.constantFrom<Method>("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND"),
  path: fuzzPath,
  headers: fc.dictionary(
    fc.constantFrom(...HEADER_NAMES),
    headerText.filter((v) => v.trim() === v),
    {
      maxKeys: 5,
    },
  ),
  body: rawBody,
});

// Complete requests only: a declared length is never longer than what follows, a chunked body is
// always terminated, so the server has nothing to wait for.
const socketCase = fc
  .oneof(
    fc.string({ maxLength: 200 }).map((junk) => `${junk}\r\n\r\n`),
    fc.tuple(token, fuzzPath).map(([verb, path]) => `${verb} ${path} HTTP/1.1\r\nHost: fuzz\r\n\r\n`),
    fc.string({ maxLength: 100 }).map((line) => `GET /health HTTP/1.1\r\nHost: fuzz\r\n${line}\r\n\r\n`),
    fc
      .tuple(fc.oneof(fc.constantFrom("-1", "1e3", "0x10", " 2", "2, 3", "abc"), fc.nat(2).map(String)), fc.string())
      .map(([length, body]) => {
        return `POST /kms/derive HTTP/1.1\r\nHost: fuzz\r\nContent-Length: ${length}\r\n\r\n{}${body}`;
      }),
    fc
      .tuple(fc.oneof(fc.constantFrom("zz", "-1", "ffffffffffffffffff"), fc.nat(4).map(String)), fc.string())
      .map(([size, data]) => {
        const head = "PUT /kms/data HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n";
        return `${head}${size}\r\n${data}\r\n0\r\n\r\n`;
      }),
    fc.constant("GET /health HTTP/9.9\r\nHost: fuzz\r\n\r\n"),
  )
  .map((bytes) => ({ kind: "socket" as const, bytes }));

const appRoute: fc.Arbitrary<AppRoute> = fc.constantFrom<AppRoute>(
  { method: "POST", path: "/kms/derive", body: { path: "fuzz/path", context: "c", length: 32 } },
  { method: "PUT", path: "/kms/data", body: { key: SIMPLE_KEY, value: "dmFsdWU=", ttl_ms: 0 } },
  { method: "DELETE", path: "/kms/data", body: { key: SIMPLE_KEY } },
  { method: "POST", path: "/kms/sign_cert", body: { csr: "LS0tLS1CRUdJTg==", validity_days: 1 } },
  { method: "GET", path: `/kms/data/${SIMPLE_KEY}` },
  { method: "GET", path: `/kms/data?key=${SIMPLE_KEY}` },
  { method: "GET", path: "/kms/data" },
  { method: "POST", path: "/kms/unknown", body: {} },
  { method: "POST", path: "/kms/keys", body: { name: "fuzz-key", purpose: "encrypt" } },
  { method: "POST", path: "/kms/keys/fuzz-key/encrypt", body: { plaintext: "dmFsdWU=" } },
  { method: "POST", path: "/kms/decrypt", body: { ciphertext: "nkms1:AQ" } },
  { method: "POST", path: "/kms/keys/fuzz-key/versions/1/disable", body: {} },
  { method: "GET", path: "/kms/keys?page_size=2" },
  { method: "PUT", path: "/kms/secrets/fuzz-secret", body: { value: "dmFsdWU=" } },
  { method: "DELETE", path: "/kms/secrets/fuzz-secret", body: {} },
);

const popCase = fc.record({
  kind: fc.constant("pop" as const),
  route: appRoute,
  fault: fc.constantFrom<PopFault>(
    "bad_signature",
    "other_signer",
    "other_recipient",
    "stale",
    "future",
    "timestamp_text",
    "unknown_nonce",
    "nonce_colon",
    "wallet_mismatch",
    "wallet_junk",
    "no_signature",
    "no_nonce",
    "no_timestamp",
    "dev_wallet_junk",
  ),
});

const sealedCase = fc.record({
  kind: fc.constant("sealed" as const),
  route: appRoute.filter((r) => r.method !== "GET"),
  fault: fc.constantFrom<EnvelopeFault>(
    "not_json",
    "plaintext",
    "array",
    "stranger_sender",
    "sender_junk",
    "nonce_short",
    "nonce_junk",
    "data_truncated",
    "data_flipped",
    "data_empty",
    "extra_field",
    "missing_field",
  ),
});

const FIELD_NAMES = ["path", "context", "length", "key", "value", "ttl_ms", "csr", "validity_days", "op", "extra"];
const fieldValue = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.integer(),
  fc.constantFrom(-1, 0, 1025, 2 ** 53, 1.5, "32", "derive", "kv.put", "kv.delete", "sign_cert", "", null),
);
/** A route's valid body with fields replaced, dropped or added — or any JSON at all. */
const innerCase = appRoute.chain((route) =>
  fc.record({
    kind: fc.constant("inner" as const),
    route: fc.constant(route),
    enclaver: fc.boolean(),
    body: fc.oneof(
      { weight: 1, arbitrary: fc.jsonValue() },
      {
        weight: 4,
        arbitrary: fc
          .tuple(
            fc.dictionary(fc.constantFrom(...FIELD_NAMES), fieldValue, { maxKeys: 3 }),
            fc.subarray(FIELD_NAMES, { maxLength: 2 }),
          )
          .map(([changed, dropped]) => {
            const body: Record<string, unknown> = { ...route.body, ...changed };
            for (const name of dropped) delete body[name];
            return body;
          }),
      },
    ),
  }),
);

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 4, arbitrary: rawCase },
  { weight: 1, arbitrary: socketCase },
  { weight: 2, arbitrary: popCase },
  { weight: 2, arbitrary: sealedCase },
  { weight: 4, arbitrary: innerCase },
);

/** One answer: a status, or why there was none. */
export type FuzzAnswer = { status: number } | { failure: "no_answer" | "timeout"; detail: string };

export interface FuzzReport {
  /** Fuzzed requests sent (the nonces authenticated cases fetched first are not counted). */
  requests: number;
  seconds: number;
  /** Answers by status (or failure kind). */
  answers: Record<string, number>;
  /** Cases whose answer was not a documented status, with what came back (first 20). */
  findings: Array<{ case: string; answer: string }>;
  findingCount: number;
}

export interface FuzzRunOptions {
  runs: number;
  seed: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Per request (the nonce and the request itself). */
  timeoutMs?: number;
}

/** Generates `runs` cases from `seed` and sends them; never throws for what the node answers. */
export async function runHttpFuzz(target: FuzzTarget, options: FuzzRunOptions): Promise<FuzzReport> {
  const cases = fc.sample(fuzzCase, { seed: options.seed, numRuns: options.runs });
  const sender = new FuzzSender(target, options.timeoutMs ?? 10_000);
  const report: FuzzReport = { requests: 0, seconds: 0, answers: {}, findings: [], findingCount: 0 };
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const fuzz = cases[next++]!;
      const answer = await sender.send(fuzz);
      report.requests++;
      const label = "status" in answer ? String(answer.status) : answer.failure;
      report.answers[label] = (report.answers[label] ?? 0) + 1;
      if (!acceptable(fuzz, answer)) {
        report.findingCount++;
        if (report.findings.length < 20) {
          const shown = "status" in answer ? String(answer.status) : `${answer.failure}: ${answer.detail}`;
          report.findings.push({ case: describe(fuzz), answer: shown });
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  } finally {
    await sender.close();
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** A documented status; for bytes no HTTP client sends, the server may also just close the socket. */
function acceptable(fuzz: FuzzCase, answer: FuzzAnswer): boolean {
  if ("status" in answer) return DOCUMENTED_STATUSES.has(answer.status);
  return fuzz.kind === "socket" && answer.failure === "no_answer";
}

function describe(fuzz: FuzzCase): string {
  const text = JSON.stringify(fuzz, (_k, v: unknown) =>
    typeof v === "string" && v.length > 200 ? `${v.slice(0, 200)}…` : v,
  );
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

const STRANGER = new SimulatedTee({ seed: "http-fuzz-stranger" });

class FuzzSender {
  private readonly pool: Pool;
  private readonly host: string;
  private readonly port: number;

  constructor(
    private readonly target: FuzzTarget,
    private readonly timeoutMs: number,
  ) {
    const url = new URL(target.url);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.pool = new Pool(url.origin, { connections: 8, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  async send(fuzz: FuzzCase): Promise<FuzzAnswer> {
    try {
      switch (fuzz.kind) {
        case "raw":
          // A HEAD answer has no body to read; one sent with it is refused by the client library.
          return await this.http(
            fuzz.method,
            fuzz.path,
            fuzz.headers,
            fuzz.method === "HEAD" ? undefined : withPadding(fuzz.body),
          );
        case "socket":
          return await this.socket(fuzz.bytes);
        case "pop":
          return await this.popCase(fuzz.route, fuzz.fault);
        case "sealed":
          return await this.sealedCase(fuzz.route, fuzz.fault);
        case "inner":
          return await this.innerCase(fuzz.route, fuzz.body, fuzz.enclaver);
      }
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      const detail = `${(e as Error).name}: ${(e as Error).message}${cause?.code ? ` (${cause.code})` : ""}`;
      return { failure: (e as Error).name === "TimeoutError" ? "timeout" : "no_answer", detail };
    }
  }

  private async http(method: Method, path: string, headers: Record<string, string>, body?: string) {
    const res = await this.pool.request({
      method,
      path,
      headers,
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await res.body.dump();
    return { status: res.statusCode };
  }

  /** Writes `bytes` on a fresh connection and reads the status line of whatever comes back. */
  private socket(bytes: string): Promise<FuzzAnswer> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.host, port: this.port });
      let received = "";
      const done = (answer: FuzzAnswer) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      };
      const timer = setTimeout(() => done({ failure: "timeout", detail: "no status line" }), this.timeoutMs);
      socket.setEncoding("latin1");
      socket.on("connect", () => socket.end(bytes, "latin1"));
      socket.on("data", (chunk: string) => {
        received += chunk;
        const status = /^HTTP\/1\.[01] (\d{3}) /.exec(received);
        if (status) done({ status: Number(status[1]) });
        else if (received.includes("\r\n")) done({ failure: "no_answer", detail: received.slice(0, 80) });
      });
      socket.on("error", (e) => done({ failure: "no_answer", detail: e.message }));
      socket.on("close", () => done({ failure: "no_answer", detail: "closed without a status line" }));
    });
  }

  private async nonce(): Promise<string> {
    const res = await this.pool.request({ method: "GET", path: "/nonce", signal: AbortSignal.timeout(this.timeoutMs) });
    return ((await res.body.json()) as { nonce: string }).nonce;
  }

  /** The app's PoP headers over a fresh nonce; `fault` breaks one thing in them. */
  private async popHeaders(fault?: PopFault): Promise<Record<string, string>> {
    if (fault === "dev_wallet_junk") return { "x-tee-wallet": "0xnot-a-wallet" };
    const { app, wallet } = this.target;
    let nonce = fault === "unknown_nonce" ? "AAAAAAAAAAAAAAAAAAAAAA==" : await this.nonce();
    if (fault === "nonce_colon") nonce = `${nonce}:x`;
    const now = Math.floor(Date.now() / 1000);
    const ts = fault === "stale" ? now - 3_600 : fault === "future" ? now + 3_600 : now;
    const tsText = fault === "timestamp_text" ? `${ts}.0` : String(ts);
    const recipient = fault === "other_recipient" ? STRANGER.identity.wallet : wallet;
    const signer = fault === "other_signer" ? STRANGER : app;
    let signature: string = await signer.signMessage(appAuthMessage(nonce.replace(/:/g, ""), recipient, tsText));
    if (fault === "bad_signature") signature = `${signature.slice(0, -4)}zz00`;
    const headers: Record<string, string> = {
      "x-app-signature": signature,
      "x-app-nonce": nonce,
      "x-app-timestamp": tsText,
      "x-app-wallet": fault === "wallet_mismatch" ? STRANGER.identity.wallet : await app.address(),
    };
    if (fault === "wallet_junk") headers["x-app-wallet"] = "0x1234";
    if (fault === "no_signature") delete headers["x-app-signature"];
    if (fault === "no_nonce") delete headers["x-app-nonce"];
    if (fault === "no_timestamp") delete headers["x-app-timestamp"];
    return headers;
  }

  private async seal(inner: unknown, sender = this.target.app, enclaver = false): Promise<Envelope> {
    const label = enclaver ? ENCLAVER_LABEL : CAPSULE_LABEL;
    return sender.encryptTo(this.target.teePublicKey, utf8(canonicalJson(inner)), label);
  }

  private async appCall(route: AppRoute, headers: Record<string, string>, body?: string) {
    const withType = body === undefined ? headers : { ...headers, "content-type": "application/json" };
    return this.http(route.method, route.path, withType, body);
  }

  private async popCase(route: AppRoute, fault: PopFault): Promise<FuzzAnswer> {
    const body = route.body === undefined ? undefined : JSON.stringify(await this.seal(route.body));
    return this.appCall(route, await this.popHeaders(fault), body);
  }

  private async sealedCase(route: AppRoute, fault: EnvelopeFault): Promise<FuzzAnswer> {
    const envelope: Record<string, unknown> = { ...(await this.seal(route.body ?? {})) };
    const hex = (key: string) => String(envelope[key]);
    let text: string | undefined;
    switch (fault) {
      case "not_json":
        text = `${JSON.stringify(envelope).slice(0, -1)}`;
        break;
      case "plaintext":
        text = JSON.stringify(route.body ?? {});
        break;
      case "array":
        text = JSON.stringify([envelope]);
        break;
      case "stranger_sender":
        Object.assign(envelope, await this.seal(route.body ?? {}, STRANGER));
        break;
      case "sender_junk":
        envelope.sender_tee_pubkey = hex("sender_tee_pubkey").slice(0, 40);
        break;
      case "nonce_short":
        envelope.nonce = hex("nonce").slice(0, 22);
        break;
      case "nonce_junk":
        envelope.nonce = "zz".repeat(12);
        break;
      case "data_truncated":
        envelope.encrypted_data = hex("encrypted_data").slice(0, 20);
        break;
      case "data_flipped": {
        const data = hex("encrypted_data");
        envelope.encrypted_data = `${data[0] === "0" ? "1" : "0"}${data.slice(1)}`;
        break;
      }
      case "data_empty":
        envelope.encrypted_data = "";
        break;
      case "extra_field":
        envelope.sender_wallet = STRANGER.identity.wallet;
        break;
      case "missing_field":
        delete envelope.nonce;
        break;
    }
    return this.appCall(route, await this.popHeaders(), text ?? JSON.stringify(envelope));
  }

  private async innerCase(route: AppRoute, inner: unknown, enclaver: boolean): Promise<FuzzAnswer> {
    const body = route.method === "GET" ? undefined : JSON.stringify(await this.seal(inner, undefined, enclaver));
    return this.appCall(route, await this.popHeaders(), body);
  }
}

function withPadding(body: RawBody): string | undefined {
  if (!body) return undefined;
  return body.padding === 0 ? body.text : body.text + "a".repeat(body.padding);
}

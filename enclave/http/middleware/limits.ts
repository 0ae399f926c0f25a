// Request-size, rate and time limits, built on hono's own middleware so the protocol's
// JSON error body is the only thing added here.
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { timeout } from "hono/timeout";
import { rateLimiter } from "hono-rate-limiter";
import { errorResponse } from "./errors.js";

/**
 * Rejects bodies over `maxBytes` with 413. A declared Content-Length is checked up front (Node's
 * HTTP parser then delivers exactly that many bytes); only a body without one (chunked) is counted
 * while it streams, by hono's bodyLimit. Keeping the declared-length case off the stream wrapper
 * matters for speed: wrapping makes @hono/node-server build a web ReadableStream per request
 * (measured: ~0.3 ms of node CPU per authenticated derive, see bench/README.md).
 *
 * @example app.put("/kms/data", limitBody(3 * 1024 * 1024), handler)
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = (c: Context) => errorResponse(c, 413, "payload_too_large", `request body exceeds ${maxBytes} bytes`);
  const streaming = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const declared = c.req.header("content-length");
    if (declared === undefined) return streaming(c, next);
    if (!/^[0-9]{1,15}$/.test(declared)) return errorResponse(c, 400, "bad_request", "invalid Content-Length");
    if (Number(declared) > maxBytes) return tooLarge(c);
    return next();
  };
}

/**
 * Fixed-window limit of `perMinute` requests per key (0 disables it).
 *
 * @example app.use("/nonce", limitRate({ perMinute: 1200, key: (c) => clientAddress(c, proxy), name: "nonce" }))
 */
export function limitRate(options: {
  perMinute: number;
  key: (c: Context) => string;
  name: string;
}): MiddlewareHandler {
  if (options.perMinute <= 0) return async (_c, next) => next();
  return rateLimiter({
    windowMs: 60_000,
    limit: options.perMinute,
    standardHeaders: "draft-6",
    keyGenerator: options.key,
    handler: (c) => errorResponse(c, 429, "rate_limited", `rate limit exceeded (${options.name})`),
  });
}

/** Answers 504 when a handler runs longer than `ms` (the work itself is not cancelled). */
export function limitTime(ms: number): MiddlewareHandler {
  return timeout(ms, () => new HTTPException(504, { message: "request timed out" }));
}

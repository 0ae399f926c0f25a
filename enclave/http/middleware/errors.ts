// One place that turns any thrown error into the protocol's error body `{code, message}`.
// Unknown errors become a bare 500 so no stack trace, key or internal detail reaches a caller.
import type { Context } from "hono";
import type { RootEnv } from "../context.js";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { KmsError, type KmsErrorCode } from "../../errors.js";
import type { Logger } from "../../log.js";
import { TeeUnavailableError } from "../../tee/tee.js";

export function errorBody(code: KmsErrorCode | string, message: string) {
  return { code, message };
}

export function errorResponse(c: Context, status: number, code: string, message: string): Response {
  return c.json(errorBody(code, message), status as ContentfulStatusCode);
}

const CODE_OF_STATUS: Record<number, KmsErrorCode> = {
  400: "bad_request",
  403: "forbidden",
  404: "not_found",
  413: "payload_too_large",
  429: "rate_limited",
  503: "service_unavailable",
  504: "timeout",
};

/** `app.onError(handleError(log))`. */
export function handleError(log: Logger) {
  return (err: Error, c: Context<RootEnv>): Response => {
    if (err instanceof KmsError) {
      c.set("errorReason", err.reason ?? err.code);
      return errorResponse(c, err.status, err.code, err.message);
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code = CODE_OF_STATUS[err.status] ?? "bad_request";
      return errorResponse(c, err.status, code, err.message || code);
    }
    if (err instanceof TeeUnavailableError) {
      // The enclave runtime failed (timeout, 5xx): an infrastructure fault, not the caller's.
      log.warn({ route: c.req.path, err: err.message }, "enclave runtime call failed");
      return errorResponse(c, 503, "service_unavailable", "Enclave runtime unavailable");
    }
    if (err instanceof HTTPException && err.status === 504) {
      return errorResponse(c, 504, "timeout", "request timed out");
    }
    log.error({ route: c.req.path, err: { name: err.name, message: err.message } }, "unhandled error");
    return errorResponse(c, 500, "internal_error", "internal error");
  };
}

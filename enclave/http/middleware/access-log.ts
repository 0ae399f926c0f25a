// One structured line per request: method, route pattern, status, latency, and who called (app id
// and wallet once authenticated). Never headers or bodies — they carry signatures and sealed data.
import type { MiddlewareHandler } from "hono";
import type { RootEnv } from "../context.js";
import type { Logger } from "../../log.js";

/** @example app.use("*", accessLog(log)) */
export function accessLog(log: Logger): MiddlewareHandler<RootEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const caller = c.get("caller" as never) as { appId: bigint; wallet: string } | undefined;
    log.debug(
      {
        method: c.req.method,
        route: c.req.routePath || "unmatched",
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(caller ? { app_id: caller.appId.toString(), caller: caller.wallet } : {}),
        ...(c.get("errorReason") ? { reason: c.get("errorReason") } : {}),
      },
      "request",
    );
  };
}

// /metrics is public: by default it tells nothing about one app or about why callers are refused
// (node-wide totals only); METRICS_DETAIL=true brings back the app and reason labels.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { RootEnv } from "../../../enclave/http/context.js";
import { NodeMetrics } from "../../../enclave/http/metrics.js";
import { errorResponse } from "../../../enclave/http/middleware/errors.js";

async function scrape(metrics: NodeMetrics): Promise<string> {
  const app = new Hono<RootEnv>();
  app.use("*", metrics.middleware());
  app.get("/refused", (c) => {
    c.set("errorReason", "pop_bad_nonce");
    return errorResponse(c, 403, "forbidden", "Invalid or reused nonce");
  });
  await app.request("/refused");
  await app.request("/refused");
  metrics.evictions.inc({ app: "4242" }, 3);
  return metrics.registry.metrics();
}

describe("NodeMetrics", () => {
  it("counts auth failures and evictions as node-wide totals by default", async () => {
    const text = await scrape(new NodeMetrics());
    expect(text).toMatch(/^kms_auth_failures_total 2$/m);
    expect(text).toMatch(/^kms_kv_evictions_total 3$/m);
    expect(text).not.toMatch(/pop_bad_nonce|4242|reason=|app=/);
    // Request counts stay by route pattern, which names no app.
    expect(text).toMatch(/^kms_http_requests_total\{route="\/refused",method="GET",status="403"\} 2$/m);
  });

  it("labels them by reason and by app with METRICS_DETAIL", async () => {
    const text = await scrape(new NodeMetrics({ detail: true }));
    expect(text).toMatch(/^kms_auth_failures_total\{reason="pop_bad_nonce"\} 2$/m);
    expect(text).toMatch(/^kms_kv_evictions_total\{app="4242"\} 3$/m);
  });
});

// Prometheus metrics of one node. A Registry per node (not prom-client's global one) so tests
// can run several nodes in one process.
import type { MiddlewareHandler } from "hono";
import type { RootEnv } from "./context.js";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { StoreStats } from "../store/api.js";

/** Current store figures, or undefined while the node holds no store (not serving). */
export type StoreStatsSource = () => StoreStats | undefined;

export class NodeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"route" | "method" | "status">;
  readonly authFailures: Counter<"reason">;
  readonly latency: Histogram<"route" | "method">;
  readonly evictions: Counter<"app">;
  readonly insufficientReplicas: Counter;

  constructor(storeStats?: StoreStatsSource) {
    this.requests = new Counter({
      name: "kms_http_requests_total",
      help: "HTTP requests by route pattern, method and status",
      labelNames: ["route", "method", "status"],
      registers: [this.registry],
    });
    this.authFailures = new Counter({
      name: "kms_auth_failures_total",
      help: "Rejected authentications and authorizations by reason",
      labelNames: ["reason"],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: "kms_http_request_duration_seconds",
      help: "Request latency by route pattern",
      labelNames: ["route", "method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.evictions = new Counter({
      name: "kms_kv_evictions_total",
      help: "KV records evicted (LRU) to stay within an app's quota",
      labelNames: ["app"],
      registers: [this.registry],
    });
    this.insufficientReplicas = new Counter({
      name: "kms_write_quorum_insufficient_total",
      help: "Writes answered 503 insufficient_replicas (too few members, or the quorum timed out)",
      registers: [this.registry],
    });
    if (storeStats) {
      const gauge = (name: string, help: string, pick: (s: StoreStats) => number) =>
        new Gauge({
          name,
          help,
          registers: [this.registry],
          collect() {
            const stats = storeStats();
            this.set(stats ? pick(stats) : 0);
          },
        });
      gauge("kms_kv_namespaces", "App namespaces held in the store", (s) => s.namespaces);
      gauge("kms_kv_live_keys", "Live (unexpired, undeleted) keys", (s) => s.liveKeys);
      gauge("kms_kv_bytes", "Bytes of live records accounted against quotas", (s) => s.liveBytes);
      gauge("kms_kv_tombstones", "Delete markers awaiting collection", (s) => s.tombstones);
    }
  }

  /** Reports how many writes wait for their replicas (sampled at scrape time). */
  trackWritesWaiting(waiting: () => number): void {
    new Gauge({
      name: "kms_write_quorum_waiting",
      help: "Writes applied here and waiting for the write quorum to hold them",
      registers: [this.registry],
      collect() {
        this.set(waiting());
      },
    });
  }

  /**
   * Counts every request and observes its latency under the matched route pattern
   * (never the raw path, which would let callers create unbounded label values).
   *
   * @example app.use("*", metrics.middleware())
   */
  middleware(): MiddlewareHandler<RootEnv> {
    return async (c, next) => {
      const started = performance.now();
      await next();
      const route = c.req.routePath || "unmatched";
      const method = c.req.method;
      this.requests.inc({ route, method, status: String(c.res.status) });
      this.latency.observe({ route, method }, (performance.now() - started) / 1000);
      const reason = c.get("errorReason");
      if (reason && (c.res.status === 403 || c.res.status === 401)) this.authFailures.inc({ reason });
    };
  }
}

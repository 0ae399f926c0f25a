// Prometheus metrics of one node. A Registry per node (not prom-client's global one) so tests
// can run several nodes in one process. /metrics is public (an enclave exposes one port), so what
// tells about one app or about why callers are refused — evictions by app id, auth failures by
// reason — is labelled only when the operator sets METRICS_DETAIL=true; otherwise those counters
// are node-wide totals, the same figures /status shows.
import type { MiddlewareHandler } from "hono";
import type { RootEnv } from "./context.js";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { StoreStats } from "../store/api.js";

/** Current store figures, or undefined while the node holds no store (not serving). */
export type StoreStatsSource = () => StoreStats | undefined;

export interface NodeMetricsOptions {
  /** Feeds the kms_kv_* gauges. */
  storeStats?: StoreStatsSource;
  /** METRICS_DETAIL: keep the app and reason labels (default false: totals only). */
  detail?: boolean;
}

/** A counter with one label that is recorded only in detail mode; callers always pass it. */
export interface DetailCounter<L extends string> {
  inc(labels: Record<L, string>, value?: number): void;
}

function detailCounter<L extends string>(
  registry: Registry,
  options: { name: string; help: string; label: L; detail: boolean },
): DetailCounter<L> {
  const { name, help, label } = options;
  if (options.detail) {
    const byLabel = new Counter<L>({ name, help: `${help}, by ${label}`, labelNames: [label], registers: [registry] });
    return { inc: (labels, value = 1) => byLabel.inc(labels, value) };
  }
  const total = new Counter({ name, help: `${help} (by ${label} with METRICS_DETAIL=true)`, registers: [registry] });
  return { inc: (_labels, value = 1) => total.inc(value) };
}

export class NodeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"route" | "method" | "status">;
  readonly authFailures: DetailCounter<"reason">;
  readonly latency: Histogram<"route" | "method">;
  readonly evictions: DetailCounter<"app">;
  readonly insufficientReplicas: Counter;

  constructor(options: NodeMetricsOptions = {}) {
    const { storeStats, detail = false } = options;
    this.requests = new Counter({
      name: "kms_http_requests_total",
      help: "HTTP requests by route pattern, method and status",
      labelNames: ["route", "method", "status"],
      registers: [this.registry],
    });
    this.authFailures = detailCounter(this.registry, {
      name: "kms_auth_failures_total",
      help: "Rejected authentications and authorizations",
      label: "reason",
      detail,
    });
    this.latency = new Histogram({
      name: "kms_http_request_duration_seconds",
      help: "Request latency by route pattern",
      labelNames: ["route", "method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.evictions = detailCounter(this.registry, {
      name: "kms_kv_evictions_total",
      help: "KV records evicted (LRU) to stay within an app's quota",
      label: "app",
      detail,
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

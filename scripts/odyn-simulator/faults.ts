// Fault injection for the Odyn simulator: tests make the next N requests fail, hang or lose their
// connection, to prove the client's retries, timeouts and error reporting against real HTTP.

export type Fault =
  | { kind: "status"; status: number }
  | { kind: "delay"; ms: number }
  | { kind: "drop" }
  | { kind: "reply"; status: number; body: unknown };

interface Rule {
  fault: Fault;
  remaining: number;
  /** Only requests to this path (e.g. "/v1/random"); every path when absent. */
  path?: string;
}

export class FaultInjector {
  private rules: Rule[] = [];

  /** The next `count` matching requests answer `status` (default 503) without reaching the handler. */
  failNext(count: number, options: { status?: number; path?: string } = {}): void {
    const status = options.status ?? 503;
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new Error("fault status must be 4xx or 5xx");
    this.add({ kind: "status", status }, count, options.path);
  }

  /** The next `count` matching requests wait `ms` before being handled (to trip client timeouts). */
  delayNext(count: number, ms: number, options: { path?: string } = {}): void {
    if (!Number.isInteger(ms) || ms < 0) throw new Error("delay must be a non-negative integer of milliseconds");
    this.add({ kind: "delay", ms }, count, options.path);
  }

  /** The next `count` matching requests have their connection destroyed with no response (network error). */
  dropNext(count: number, options: { path?: string } = {}): void {
    this.add({ kind: "drop" }, count, options.path);
  }

  /** The next `count` matching requests get `body` as JSON with `status` (default 200): a misbehaving Odyn. */
  replyNext(count: number, body: unknown, options: { status?: number; path?: string } = {}): void {
    this.add({ kind: "reply", status: options.status ?? 200, body }, count, options.path);
  }

  clear(): void {
    this.rules = [];
  }

  /** Faults still waiting to fire. */
  get pending(): number {
    return this.rules.reduce((n, r) => n + r.remaining, 0);
  }

  /** Consumes and returns the fault for a request to `path`, if one is armed. Rules fire in the order added. */
  take(path: string): Fault | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && (r.path === undefined || r.path === path));
    if (!rule) return undefined;
    rule.remaining--;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule.fault;
  }

  private add(fault: Fault, count: number, path?: string): void {
    if (!Number.isInteger(count) || count < 1) throw new Error("fault count must be a positive integer");
    this.rules.push(path === undefined ? { fault, remaining: count } : { fault, remaining: count, path });
  }
}

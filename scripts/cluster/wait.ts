// Waiting on a node by asking it, never by sleeping a fixed time: /health says the process serves
// HTTP, /status `node.service_available` says it is registered and holds the cluster's master secret.
import { statusViewSchema, type StatusView } from "../../enclave/protocol/views.js";

const PROBE_TIMEOUT_MS = 1_000;
const POLL_INTERVAL_MS = 100;

/**
 * One GET /status of one of our nodes, checked against the schema the node builds it with; throws
 * when the node does not answer with it within `timeoutMs`.
 */
export async function fetchStatus(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<StatusView> {
  const response = await fetch(`${url}/status`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url}/status answered ${response.status}`);
  const parsed = statusViewSchema.safeParse(await response.json());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`GET ${url}/status: ${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  return parsed.data;
}

/** True when GET /health answers 200 within `timeoutMs`. */
export async function answersHealth(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Polls `check` until it returns a value other than undefined, or fails once `timeoutMs` has passed
 * (the message ends with what `describe` says about the last attempt). `abort` ends the wait early.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; what: string; describe?: () => string; abort?: Promise<unknown>; intervalMs?: number },
): Promise<T> {
  let aborted = false;
  void options.abort?.then(() => {
    aborted = true;
  });
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const detail = options.describe?.();
    if (aborted)
      throw new Error(`gave up waiting for ${options.what}: the process exited${detail ? ` (${detail})` : ""}`);
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail ? ` (${detail})` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? POLL_INTERVAL_MS));
  }
}

/** Resolves once GET {url}/health answers 200; `exited` (a process's exit) ends the wait with an error. */
export async function waitForHealth(url: string, timeoutMs: number, exited?: Promise<unknown>): Promise<void> {
  await pollUntil(async () => ((await answersHealth(url)) ? true : undefined), {
    timeoutMs,
    what: `${url}/health`,
    ...(exited ? { abort: exited } : {}),
  });
}

/**
 * Resolves with the node's /status once it says `service_available: true`; on timeout the error
 * carries the node's last reason.
 */
export async function waitForServing(url: string, timeoutMs: number): Promise<StatusView> {
  let last = "no answer yet";
  return pollUntil(
    async () => {
      try {
        const status = await fetchStatus(url);
        last = status.kms.reason;
        return status.node.service_available ? status : undefined;
      } catch (error) {
        last = (error as Error).message;
        return undefined;
      }
    },
    { timeoutMs, what: `${url} to serve`, describe: () => `last reason: ${last}`, intervalMs: 200 },
  );
}

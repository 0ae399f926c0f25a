// The one way tests wait: poll a condition (never sleep a guessed time), on the same poller the
// scripts use (scripts/cluster/wait.ts), failing with what never happened and the last error seen.
import { pollUntil } from "../../scripts/cluster/wait.js";

/** Polls `check` until it returns a truthy value (errors count as "not yet") or `timeoutMs` passes. */
type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 15_000,
  what = "condition",
): Promise<Truthy<T>> {
  let lastError: unknown;
  return pollUntil(
    async () => {
      try {
        const value = await check();
        return value ? (value as Truthy<T>) : undefined;
      } catch (e) {
        lastError = e;
        return undefined;
      }
    },
    { timeoutMs, what, intervalMs: 50, describe: () => (lastError ? String(lastError) : "") },
  );
}

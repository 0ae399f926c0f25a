// Watches one node's key list (authenticated GET /kms/data, the same call an app makes) and notes
// when each key first shows up. One list call per poll is far cheaper than a GET per key, and the
// first-seen time it gives is late by at most one poll period plus one round trip (reported).
import type { AppChannel } from "../load/app-channel.js";
import { wallClockMs } from "./shared.js";

export async function listKeys(channel: AppChannel): Promise<string[]> {
  const out = (await channel.call("GET", "/kms/data")) as { keys?: unknown };
  if (!Array.isArray(out.keys)) throw new Error(`unexpected list answer ${JSON.stringify(out).slice(0, 200)}`);
  return out.keys as string[];
}

export interface ListWatch {
  /** wallClockMs of the first poll answer that contained the key (keys matching the prefix only). */
  readonly firstSeen: ReadonlyMap<string, number>;
  /** Completed polls and their mean round trip, to state the measurement's resolution. */
  stats(): { polls: number; meanPollMs: number; errors: number };
  stop(): Promise<void>;
}

/** Polls every `intervalMs` (start to start; back to back when a poll takes longer). */
export function watchList(channel: AppChannel, prefix: string, intervalMs: number): ListWatch {
  const firstSeen = new Map<string, number>();
  let running = true;
  let polls = 0;
  let pollMs = 0;
  let errors = 0;
  const loop = (async () => {
    while (running) {
      const started = wallClockMs();
      try {
        const keys = await listKeys(channel);
        const seenAt = wallClockMs();
        polls++;
        pollMs += seenAt - started;
        for (const k of keys) if (k.startsWith(prefix) && !firstSeen.has(k)) firstSeen.set(k, seenAt);
      } catch (e) {
        // A failed poll only costs resolution; too many of them and the run reports it.
        if (errors++ < 3) process.stderr.write(`list poll failed: ${(e as Error).message.slice(0, 200)}\n`);
      }
      const wait = started + intervalMs - wallClockMs();
      if (wait > 0 && running) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    firstSeen,
    stats: () => ({ polls, meanPollMs: polls > 0 ? pollMs / polls : Number.NaN, errors }),
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/**
 * Polls until `done(keys)` holds; resolves with the wallClockMs of that poll's answer. Throws after
 * `timeoutMs`, saying what `describe` makes of the last list.
 */
export async function waitForList(
  channel: AppChannel,
  done: (keys: string[]) => boolean,
  options: { intervalMs: number; timeoutMs: number; what: string; describe: (keys: string[]) => string },
): Promise<number> {
  const deadline = wallClockMs() + options.timeoutMs;
  let last: string[] = [];
  let lastError = "";
  for (;;) {
    const started = wallClockMs();
    try {
      last = await listKeys(channel);
      if (done(last)) return wallClockMs();
    } catch (e) {
      lastError = (e as Error).message.slice(0, 200);
    }
    if (wallClockMs() >= deadline) {
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${options.what} (${options.describe(last)}${lastError ? `; last error: ${lastError}` : ""})`,
      );
    }
    const wait = started + options.intervalMs - wallClockMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

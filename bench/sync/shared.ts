// Small things the sync bench's orchestrator and its writer process must agree on.

/**
 * Wall-clock milliseconds with sub-millisecond resolution. Ack times come from the writer process
 * and first-seen times from the orchestrator, so both need the same clock: timeOrigin + now() is
 * the system clock in every process (Date.now() would do too, but only to the millisecond).
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Key i of a phase; zero-padded so lists sort in write order when read by a person. */
export const keyName = (prefix: string, i: number): string => `${prefix}${i.toString().padStart(6, "0")}`;

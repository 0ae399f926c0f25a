// A job run every `intervalMs` that never overlaps itself: a run still going when the next is due
// is not started twice (a slow registry or peer must not pile up rounds). `runNow()` shares the
// run in progress, if any, so callers can also wait for one.
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly job: () => Promise<void>,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.runNow();
    this.timer = setInterval(() => void this.runNow(), this.intervalMs);
  }

  runNow(): Promise<void> {
    this.running ??= this.job().finally(() => (this.running = undefined));
    return this.running;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

// Runs the demo's steps one after another, printing each with its result or its error, and keeps
// going after a failure so one run shows everything that works and everything that does not.
export class StepRunner {
  private readonly failures: string[] = [];
  private count = 0;

  constructor(private readonly out: (line: string) => void) {}

  /** Runs `action`; its returned lines are printed under the step. Resolves undefined when it failed. */
  async step<T>(title: string, action: () => Promise<{ value: T; lines: string[] }>): Promise<T | undefined> {
    this.count += 1;
    const started = Date.now();
    this.out(`\n[${this.count}] ${title}`);
    try {
      const { value, lines } = await action();
      for (const line of lines) this.out(`    ${line}`);
      this.out(`    ok (${Date.now() - started} ms)`);
      return value;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      for (const line of message.split("\n").slice(0, 6)) this.out(`    ${line}`);
      this.out(`    FAILED (${Date.now() - started} ms)`);
      this.failures.push(title);
      return undefined;
    }
  }

  get failed(): readonly string[] {
    return this.failures;
  }

  get total(): number {
    return this.count;
  }
}

// Child processes (anvil) must not outlive the process that started them, whatever way it ends:
// normal exit, an uncaught error, or Ctrl-C / SIGTERM from a terminal, make or a test runner.
// Cleanups are synchronous because the 'exit' event cannot wait for promises.
type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort: one failing cleanup must not keep the others from running.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  // When nobody else listens, restore the default disposition and re-raise, so the exit status still
  // says "killed by SIGINT" (130) as make or a shell expect. A CLI with its own graceful shutdown
  // listens too and decides itself when to exit.
  if (process.listenerCount(signal) === 1) {
    process.off(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
}

/** Registers `cleanup` to run once at process exit or on a terminating signal; returns an unregister function. */
export function onProcessExit(cleanup: Cleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

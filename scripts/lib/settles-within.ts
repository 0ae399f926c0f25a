// Waiting for a child process to exit, with a deadline: the shape every "SIGTERM, then SIGKILL if it
// lingers" stop in the scripts and benches shares.

/** True when `done` settles within `ms`; false when the time runs out first. The timer never outlives the wait. */
export async function settlesWithin(done: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      done.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

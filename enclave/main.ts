// Entry point: env → config → node → serve. Exits with one clear line on a bad config and
// shuts down gracefully (stop accepting, finish in-flight requests) on SIGINT/SIGTERM.
import { ConfigError, loadConfig } from "./config.js";
import { KmsNode } from "./node.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const node = await KmsNode.create(config);
  await node.start();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    node.log.info({ signal }, "shutting down");
    node.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // A bug in one request must not take the node down; log it and keep serving.
  process.on("unhandledRejection", (reason) => node.log.error({ err: String(reason) }, "unhandled rejection"));
}

main().catch((e: unknown) => {
  process.stderr.write(`fatal: ${(e as Error).message}\n`);
  process.exit(1);
});

// Environment → typed, validated Config. Every variable here is documented in README.md and
// does something; a bad value stops start-up with one line naming the variable.
import { z } from "zod";
import { parseWriteQuorum } from "./cluster/write-quorum.js";
import {
  DEFAULT_LIMITS,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_OVERFLOW,
  LIMIT_CEILINGS,
  OVERFLOW_POLICIES,
} from "./store/limits.js";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
  .transform((v) => v.toLowerCase() as `0x${string}`);
const url = z.string().url();

const schema = z.object({
  IN_ENCLAVE: bool.default(false),
  SIMULATION_MODE: bool.default(false),
  CHAIN_RPC_URL: url,
  NOVA_APP_REGISTRY_ADDRESS: address,
  KMS_REGISTRY_ADDRESS: address,
  KMS_APP_ID: z
    .string()
    .regex(/^[0-9]+$/, "must be a decimal app id")
    .transform(BigInt),
  BIND_HOST: z.string().min(1).optional(),
  PORT: int(0, 65535).default(8000),
  NODE_INSTANCE_URL: url.optional(),
  SIM_NODE_SEED: z.string().min(1).optional(),
  MASTER_SECRET_HEX: z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be 32 bytes of hex")
    .optional(),
  KMS_NODE_TICK_MS: int(50, 3_600_000).default(5_000),
  DATA_SYNC_INTERVAL_MS: int(50, 3_600_000).default(2_000),
  AUTH_CACHE_TTL_SECONDS: int(0, 3_600).default(15),
  // Chain lookups per second for wallets the authorizer does not know (each made-up signer costs one).
  REGISTRY_LOOKUPS_PER_SECOND: int(0).default(50),
  POP_TIMEOUT_SECONDS: int(1, 3_600).default(120),
  ODYN_URL: url.default("http://127.0.0.1:18000"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Per-address limits only stop a flood from one source: every app on a host may share one address,
  // and the runtime's KMS client retries each call up to 3 rounds with a fresh nonce, so fairness
  // between apps comes from the per-wallet and per-app limits (README "Rate limits").
  NONCE_RATE_LIMIT_PER_MINUTE: int(0).default(12_000),
  // Peers fetch their nonces from a pool and a limit of their own (GET /nonce?for=peer).
  PEER_NONCE_RATE_LIMIT_PER_MINUTE: int(0).default(6_000),
  RATE_LIMIT_PER_MINUTE: int(0).default(30_000),
  WALLET_RATE_LIMIT_PER_MINUTE: int(0).default(3_000),
  APP_RATE_LIMIT_PER_MINUTE: int(0).default(6_000),
  TRUST_PROXY: bool.default(false),
  // Trusted proxies in front of the node: the client is the N-th X-Forwarded-For entry from the right.
  TRUST_PROXY_HOPS: int(1, 16).default(1),
  MAX_BODY_BYTES: int(1_024).default(64 * 1024),
  MAX_KV_BODY_BYTES: int(1_024).default(3 * 1024 * 1024),
  SYNC_MAX_BODY_BYTES: int(1024 * 1024).default(8 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(10_000),
  NONCE_STORE_MAX: int(100).default(100_000),
  // The store's own defaults (store/limits.ts), so no KV default is written twice.
  KV_OVERFLOW: z.enum(OVERFLOW_POLICIES).default(DEFAULT_OVERFLOW),
  KV_MAX_BYTES_PER_APP: int(1_024).default(DEFAULT_LIMITS.maxBytesPerApp),
  KV_MAX_KEYS_PER_APP: int(1).default(DEFAULT_LIMITS.maxKeysPerApp),
  KV_MAX_VALUE_BYTES: int(1, LIMIT_CEILINGS.maxValueBytes).default(DEFAULT_LIMITS.maxValueBytes),
  KV_MAX_KEY_BYTES: int(1, LIMIT_CEILINGS.maxKeyBytes).default(DEFAULT_LIMITS.maxKeyBytes),
  MAX_CLOCK_SKEW_MS: int(0).default(DEFAULT_MAX_CLOCK_SKEW_MS),
  CERT_MAX_VALIDITY_DAYS: int(1, 90).default(90),
  CERT_ALLOWED_DNS_SUFFIXES: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    ),
  // Per-app and per-reason labels on the public /metrics (README "Metrics").
  METRICS_DETAIL: bool.default(false),
  CHAIN_TIMEOUT_MS: int(100, 120_000).default(5_000),
  PEER_TIMEOUT_MS: int(100, 120_000).default(5_000),
  // Members (this node included) that must hold a KV write before it is acknowledged, or "all"
  // reachable members; README "Consistency and durability".
  WRITE_QUORUM: z
    .string()
    .default("2")
    .transform((v, ctx) => {
      try {
        return parseWriteQuorum(v);
      } catch (e) {
        ctx.addIssue({ code: "custom", message: (e as Error).message });
        return z.NEVER;
      }
    }),
  WRITE_QUORUM_TIMEOUT_MS: int(100, 60_000).default(3_000),
  // How long a destroyed key version can still be restored (PROTOCOL.md §12); fractions allowed.
  KEY_DESTROY_DELAY_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(24),
  // How often due key rotations and destructions are looked for (README "Keys: replication").
  KEY_MAINTENANCE_INTERVAL_MS: int(100, 3_600_000).default(10_000),
});

export type Config = z.output<typeof schema> & { BIND_HOST: string };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment. Throws ConfigError with one line naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" so `FOO= make run` behaves like leaving FOO out.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${issue.path.join(".")}: ${issue.message}`);
  }
  const cfg = parsed.data;
  if (cfg.IN_ENCLAVE && cfg.SIMULATION_MODE) {
    throw new ConfigError("invalid configuration: SIMULATION_MODE=true is refused when IN_ENCLAVE=true");
  }
  if (!cfg.IN_ENCLAVE && !cfg.SIMULATION_MODE) {
    throw new ConfigError(
      "invalid configuration: set IN_ENCLAVE=true (enclave) or SIMULATION_MODE=true (local simulation)",
    );
  }
  if (cfg.IN_ENCLAVE && cfg.SIM_NODE_SEED) {
    throw new ConfigError(
      "invalid configuration: SIM_NODE_SEED is a simulation identity and is refused when IN_ENCLAVE=true",
    );
  }
  // The enclave's environment comes from its image and the host that launches it: a secret there is
  // known outside the enclave, which is exactly what the cluster secret must never be.
  if (cfg.IN_ENCLAVE && cfg.MASTER_SECRET_HEX) {
    throw new ConfigError(
      "invalid configuration: MASTER_SECRET_HEX is a secret from outside the enclave and is refused when IN_ENCLAVE=true",
    );
  }
  if (cfg.IN_ENCLAVE && cfg.NODE_INSTANCE_URL && !cfg.NODE_INSTANCE_URL.startsWith("https://")) {
    throw new ConfigError("invalid configuration: NODE_INSTANCE_URL must be https:// when IN_ENCLAVE=true");
  }
  const bindHost = cfg.BIND_HOST ?? (cfg.SIMULATION_MODE ? "127.0.0.1" : "0.0.0.0");
  return { ...cfg, BIND_HOST: bindHost };
}

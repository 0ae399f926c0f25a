// The public JSON views `GET /status` and `GET /nodes` (PROTOCOL.md §9), defined once: the node builds
// them typed from these schemas, and the SDK, scripts, benches and tests parse what a node sent with
// them. Existing Nova app runtimes read `/status` and fail on any other shape, so the reference blocks
// (`node`, `cluster`, `data_store`; `/nodes` `operators` and `count`) carry exactly the reference keys;
// what this implementation adds lives beside them (`kms` in /status, `nodes` in /nodes).
// Depends on zod only, so clients can import it without pulling in node internals.
import { z } from "zod";

/** Ids, counters and timestamps of chain origin: a JSON number while exact (≤ 2^53 − 1), else a decimal string. */
export const jsonUintSchema = z.union([
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  z.string().regex(/^[0-9]+$/, "must be a decimal integer"),
]);

const countSchema = z.number().int().min(0);
const lowerWalletSchema = z.string().regex(/^0x[0-9a-f]{40}$/, "must be a lower-case 0x-prefixed address");
const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed address");
/** Lower-case hex without `0x` (the reference prints DER this way; empty when its TEE could not say). */
const lowerHexSchema = z.string().regex(/^(?:[0-9a-f]{2})*$/, "must be lower-case hex without 0x");

/**
 * How the held master secret was obtained, in the reference's words: none yet, made here (a preset
 * `MASTER_SECRET_HEX` counts as generated, as in the reference), or adopted from a peer.
 */
export const MASTER_SECRET_STATES = ["uninitialized", "generated", "synced"] as const;
export type MasterSecretState = (typeof MASTER_SECRET_STATES)[number];

// ---- GET /status ----

export const statusNodeSchema = z.object({
  tee_wallet: lowerWalletSchema,
  /** The node's P-384 encryption key as SPKI DER (what apps seal requests to). */
  tee_pubkey: lowerHexSchema,
  /** NODE_INSTANCE_URL as configured; null when unset. */
  node_url: z.string().nullable(),
  /** Registered on chain as an ACTIVE, zkVerified instance of the KMS app. */
  is_operator: z.boolean(),
  service_available: z.boolean(),
  master_secret: z.object({
    state: z.enum(MASTER_SECRET_STATES),
    /** URL of the peer the secret was adopted from (state "synced"), else null. */
    synced_from: z.string().nullable(),
  }),
  /** Holds a master secret (whether or not it currently matches the chain). */
  master_secret_initialized: z.boolean(),
});

export const statusClusterSchema = z.object({
  kms_app_id: jsonUintSchema,
  /** KMSRegistry contract address. */
  registry_address: addressSchema,
  /** KMS instances the registry lists as members, this node included. */
  total_instances: countSchema,
});

export const statusDataStoreSchema = z.object({
  namespaces: countSchema,
  /** Live (not deleted, not expired) keys over all apps. */
  total_keys: countSchema,
  total_bytes: countSchema,
});

/** The reference `/status` (PROTOCOL.md §9): what every Nova KMS node serves and app runtimes read. */
export const referenceStatusSchema = z.object({
  node: statusNodeSchema,
  cluster: statusClusterSchema,
  data_store: statusDataStoreSchema,
});

/** What this implementation adds to /status: readiness, registration, secret provenance, store counters. */
export const kmsStatusSchema = z.object({
  version: z.string(),
  mode: z.enum(["enclave", "simulation"]),
  /** "serving" when available, else why not (the same words as the 503s). */
  reason: z.string(),
  /** Same verdict as node.is_operator, under the name our logs and scripts use. */
  registered: z.boolean(),
  instance_url: z.object({
    configured: z.string().nullable(),
    /** The URL the registry lists for this node (what peers and apps dial). */
    registered: z.string().nullable(),
  }),
  /** Members this node replicates with (total_instances minus itself and members it refuses to dial). */
  peers: countSchema,
  master_secret: z.object({
    /** Holds the secret whose hash is on chain. */
    ready: z.boolean(),
    /** Unlike node.master_secret.state, tells a preset secret from a generated one. */
    origin: z.enum(["generated", "preset", "peer"]).nullable(),
    on_chain_hash: z.string().nullable(),
  }),
  /** How KV writes are acknowledged (README "Consistency and durability"). */
  write_quorum: z.object({
    /** WRITE_QUORUM as configured: a member count or "all". */
    setting: z.string(),
    /** Members (this node included) a write must reach right now. */
    required: countSchema,
    /** False when a 2xx means only "this node holds it" (quorum 1, e.g. a one-node cluster). */
    replicated: z.boolean(),
    /** Writes applied here and waiting for their replicas. */
    waiting: countSchema,
    /** Writes answered 503 insufficient_replicas since start. */
    insufficient_total: countSchema,
  }),
  /** Named keys (README "Keys"): stalls this node noticed (each forces a catch-up), leases it
   *  grants right now, and what scheduled maintenance did since start. Absent from older nodes. */
  named_keys: z
    .object({
      stalls_seen: countSchema,
      leases_held: countSchema,
      rotated_total: countSchema,
      erased_total: countSchema,
      maintenance_failed_total: countSchema,
    })
    .optional(),
  /** Store counters; null before the node first holds a secret. */
  store: z
    .object({
      namespaces: countSchema,
      live_keys: countSchema,
      live_bytes: countSchema,
      tombstones: countSchema,
      tombstone_bytes: countSchema,
      evictions: countSchema,
      /** Position of this node's change log. */
      head: countSchema,
    })
    .nullable(),
});

/** This node's `/status`: the reference blocks plus `kms`. */
export const statusViewSchema = referenceStatusSchema.extend({ kms: kmsStatusSchema });
export type StatusView = z.infer<typeof statusViewSchema>;

/** `/status` of any Nova KMS node as a client reads it: `kms` only comes from this implementation. */
export const nodeStatusSchema = referenceStatusSchema.extend({ kms: kmsStatusSchema.optional() });
export type NodeStatus = z.infer<typeof nodeStatusSchema>;

// ---- GET /nodes ----

const instanceStatusNameSchema = z.enum(["ACTIVE", "NON_ACTIVE"]);

/** One registry member in the reference's shape. */
export const operatorEntrySchema = z.object({
  /** The member's TEE wallet (the reference names its entries so). */
  operator: lowerWalletSchema,
  instance: z.object({
    instance_id: jsonUintSchema,
    app_id: jsonUintSchema,
    version_id: jsonUintSchema,
    /** The on-chain operator address that registered the instance. */
    operator: addressSchema,
    instance_url: z.string(),
    tee_wallet: lowerWalletSchema,
    zk_verified: z.boolean(),
    instance_status: z.object({ value: countSchema, name: instanceStatusNameSchema }),
    /** Registration time on chain (seconds). */
    registered_at: jsonUintSchema,
  }),
  connection: z.object({
    in_peer_cache: z.boolean(),
    cached_status: instanceStatusNameSchema,
    status_endpoint_reachable: z.boolean().nullable(),
    status_endpoint_http_code: z.number().int().nullable(),
    status_probe_ms: countSchema.nullable(),
    status_checked_at_ms: countSchema.nullable(),
  }),
});
export type OperatorEntry = z.infer<typeof operatorEntrySchema>;

/** One registry member as this implementation has always listed it, with its replication state. */
export const memberEntrySchema = z.object({
  wallet: lowerWalletSchema,
  instance_id: z.string(),
  url: z.string(),
  version_id: z.string(),
  self: z.boolean(),
  /** Why this node never dials the member (a URL the policy refuses, an unusable key). */
  excluded: z.string().optional(),
  // Replication state; absent for this node itself.
  last_sync_ok_ms: countSchema.nullable().optional(),
  last_sync_attempt_ms: countSchema.nullable().optional(),
  last_error: z.string().nullable().optional(),
  /** Change-log positions the member has not acknowledged yet. */
  sync_lag: countSchema.nullable().optional(),
});
export type MemberEntry = z.infer<typeof memberEntrySchema>;

export const nodesViewSchema = z.object({
  // Reference keys.
  operators: z.array(operatorEntrySchema),
  count: countSchema,
  // Ours.
  kms_app_id: z.string(),
  /** When the membership was last read from the registry; null before the first read. */
  refreshed_at_ms: countSchema.nullable(),
  nodes: z.array(memberEntrySchema),
});
export type NodesView = z.infer<typeof nodesViewSchema>;

// Inner messages of POST /sync (PROTOCOL.md §10), validated before anything acts on them.
// Records are the store's wire format (enclave/store/wire-format.ts); the store validates each
// record itself on merge, so here they are only required to be objects.
//
//   delta             {records, from, next, epoch}  push of the sender's changes (from, next] of its
//                                                   change log `epoch`; answered with delta_ack
//   snapshot_request  {cursor, max_bytes?}          page of the receiver's whole store
//   roots             {roots: {app_id: hash}}       anti-entropy, step 1: receiver answers with the app
//                                                   ids whose roots differ or that only one side has
//   digest            {digests: AppDigest[]}        step 2, for those apps only: receiver answers with
//                                                   its records in the buckets that differ
//   repair            {records}                     records sent back after a digest exchange
//   master_secret_request {ecdh_pubkey}             §7; no HMAC, ENROLLED versions only
//   key_lease         {resource, lease_id, ttl_ms}  asks for the cluster lease on one named key or
//                                                   secret (cluster/key-leases.ts); answered with
//                                                   granted and the receiver's records of it
//   key_release       {resource, lease_id}          ends a lease early
//
// snapshot_request, roots, digest and repair also carry the sender's store `epoch` (optional on the
// wire): a peer merges nothing from, and sends nothing to, the store a member had when it left the
// membership, and says so in its reply (`stale_store: true`), so that the member rebuilds that store
// (departed-stores.ts).
import { z } from "zod";
import { KEY_NAME_PATTERN } from "../keys/purpose.js";

const record = z.record(z.string(), z.unknown());

/** Apps compared bucket by bucket in one digest exchange; the rest wait for the next one. */
export const MAX_DIGEST_APPS = 32;
const position = z.number().int().min(0);
/** A store's epoch (random per store instance). */
const storeEpoch = z.string().min(1).max(100);

/** A leased resource: app id and kind/name (keys/key-records.ts). */
const leaseResource = z.object({
  app_id: z.string().regex(/^(0|[1-9][0-9]{0,77})$/),
  kind: z.enum(["key", "secret"]),
  name: z.string().regex(KEY_NAME_PATTERN),
});
const leaseId = z.string().regex(/^[0-9a-f]{32}$/);

export const syncMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("delta"),
    sender_wallet: z.string(),
    epoch: storeEpoch,
    from: position,
    next: position,
    records: z.array(record).max(100_000),
  }),
  z.object({
    type: z.literal("snapshot_request"),
    sender_wallet: z.string(),
    epoch: storeEpoch.optional(),
    cursor: position,
    max_bytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .optional(),
  }),
  z.object({
    type: z.literal("roots"),
    sender_wallet: z.string(),
    epoch: storeEpoch.optional(),
    roots: z.record(z.string().regex(/^[0-9]{1,78}$/), z.string().max(64)),
  }),
  z.object({
    type: z.literal("digest"),
    sender_wallet: z.string(),
    epoch: storeEpoch.optional(),
    digests: z
      .array(
        z.object({
          app_id: z.string().regex(/^[0-9]{1,78}$/),
          buckets: z.number().int(),
          hashes: z.array(z.string()).max(65536),
        }),
      )
      .max(MAX_DIGEST_APPS),
  }),
  z.object({
    type: z.literal("repair"),
    sender_wallet: z.string(),
    epoch: storeEpoch.optional(),
    records: z.array(record).max(100_000),
  }),
  z.object({
    type: z.literal("master_secret_request"),
    sender_wallet: z.string(),
    ecdh_pubkey: z.string().min(1).max(1024),
  }),
  z.object({
    type: z.literal("key_lease"),
    sender_wallet: z.string(),
    resource: leaseResource,
    lease_id: leaseId,
    ttl_ms: z.number().int().min(1).max(60_000),
  }),
  z.object({ type: z.literal("key_release"), sender_wallet: z.string(), resource: leaseResource, lease_id: leaseId }),
]);

export type SyncMessage = z.output<typeof syncMessage>;
export type SyncMessageType = SyncMessage["type"];

// ---- Replies ----
// What SyncHandler answers to each message type, inside the sealed and signed reply. PeerClient.call
// parses every reply with the schema of its request, so callers get typed values and a reply that
// does not fit is a PeerCallError, never a half-read object. Unknown fields are dropped, not refused.

const count = z.number().int().min(0);
/** Merge outcome counts (one per store MergeStatus). */
const mergeCounts = z.object({ inserted: count, replaced: count, concurrent: count, ignored: count, rejected: count });
/** True when the receiver merged nothing because the sender's store missed a tombstone collection. */
const staleStore = z.boolean().optional();
const appId = z.string().regex(/^[0-9]{1,78}$/);

export const syncReplies = {
  /** The merge of a delta; `epoch` is the receiver's store (a new one means: resend from 0). */
  delta: z.object({ type: z.literal("delta_ack"), epoch: storeEpoch, counts: mergeCounts, stale_store: staleStore }),
  repair: z.object({ type: z.literal("repair_ack"), epoch: storeEpoch, counts: mergeCounts, stale_store: staleStore }),
  /** One page of the receiver's store; ask again from `next` while `more`. */
  snapshot_request: z.object({
    type: z.literal("snapshot_page"),
    epoch: storeEpoch,
    records: z.array(record),
    next: position,
    head: position,
    more: z.boolean(),
    stale_store: staleStore,
  }),
  /** Apps whose roots differ, or that only one side holds. */
  roots: z.object({ type: z.literal("roots_reply"), differing: z.array(appId), stale_store: staleStore }),
  /** The receiver's records in the differing buckets (bounded; `truncated` when some were left out). */
  digest: z.object({
    type: z.literal("digest_reply"),
    epoch: storeEpoch,
    records: z.array(record),
    differing: z.array(z.object({ app_id: appId, buckets: z.array(z.number().int().min(0)) })),
    truncated: z.boolean(),
    stale_store: staleStore,
  }),
  /** PROTOCOL.md §7; the sealed fields are checked when opened (crypto/sealed-transfer.ts). */
  master_secret_request: z.object({
    status: z.literal("ok"),
    sealed: z.object({ ephemeral_pubkey: z.string(), encrypted_data: z.string(), nonce: z.string() }),
  }),
  /** Whether the lease is ours, and the receiver's records of the resource (merged before the change). */
  key_lease: z.object({ type: z.literal("key_lease_reply"), granted: z.boolean(), records: z.array(record) }),
  key_release: z.object({ type: z.literal("key_release_reply") }),
} satisfies Record<SyncMessageType, z.ZodType>;

export type SyncReply<T extends SyncMessageType> = z.output<(typeof syncReplies)[T]>;

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
import { z } from "zod";

const record = z.record(z.string(), z.unknown());

/** Apps compared bucket by bucket in one digest exchange; the rest wait for the next one. */
export const MAX_DIGEST_APPS = 32;
const position = z.number().int().min(0);

export const syncMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("delta"),
    sender_wallet: z.string(),
    epoch: z.string().min(1).max(100),
    from: position,
    next: position,
    records: z.array(record).max(100_000),
  }),
  z.object({
    type: z.literal("snapshot_request"),
    sender_wallet: z.string(),
    cursor: position,
    max_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
  }),
  z.object({
    type: z.literal("roots"),
    sender_wallet: z.string(),
    roots: z.record(z.string().regex(/^[0-9]{1,78}$/), z.string().max(64)),
  }),
  z.object({
    type: z.literal("digest"),
    sender_wallet: z.string(),
    digests: z
      .array(z.object({ app_id: z.string().regex(/^[0-9]{1,78}$/), buckets: z.number().int(), hashes: z.array(z.string()).max(65536) }))
      .max(MAX_DIGEST_APPS),
  }),
  z.object({
    type: z.literal("repair"),
    sender_wallet: z.string(),
    records: z.array(record).max(100_000),
  }),
  z.object({
    type: z.literal("master_secret_request"),
    sender_wallet: z.string(),
    ecdh_pubkey: z.string().min(1).max(1024),
  }),
]);

export type SyncMessage = z.output<typeof syncMessage>;
export type SyncMessageType = SyncMessage["type"];

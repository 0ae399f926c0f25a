// Inner messages of POST /sync (PROTOCOL.md §10), validated before anything acts on them.
// Records are the store's wire format (enclave/store/wire-format.ts); the store validates each
// record itself on merge, so here they are only required to be objects.
//
//   delta             {records, from, next, epoch}  push of the sender's changes (from, next] of its
//                                                   change log `epoch`; answered with delta_ack
//   snapshot_request  {cursor, max_bytes?}          page of the receiver's whole store
//   digest            {digests: AppDigest[]}        anti-entropy: receiver answers with its records
//                                                   in buckets that differ (and apps the sender lacks)
//   repair            {records}                     records sent back after a digest exchange
//   master_secret_request {ecdh_pubkey}             §7; no HMAC, ENROLLED versions only
import { z } from "zod";

const record = z.record(z.string(), z.unknown());
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
    type: z.literal("digest"),
    sender_wallet: z.string(),
    digests: z
      .array(z.object({ app_id: z.string().regex(/^[0-9]{1,78}$/), buckets: z.number().int(), hashes: z.array(z.string()).max(65536) }))
      .max(100_000),
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

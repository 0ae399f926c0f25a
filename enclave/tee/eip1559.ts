// Odyn signs EIP-1559 transactions only, from a "structured" payload of hex quantities. This module
// is that contract in one place: checking a viem transaction is something Odyn can sign, turning it
// into the payload, parsing a payload back (the simulator), and checking a signed result against
// the request (so a wrong mapping can never put a different transaction on chain unnoticed).
import {
  getAddress,
  isAddress,
  isHex,
  numberToHex,
  hexToBigInt,
  parseTransaction,
  serializeTransaction,
  type AccessList,
  type Address,
  type Hex,
  type TransactionSerializable,
  type TransactionSerializableEIP1559,
} from "viem";
import { z } from "zod";
import { TeeInputError } from "./tee.js";

/** Wire form of `/v1/eth/sign-tx` `payload` with `kind: "structured"`. */
export interface OdynStructuredTx {
  kind: "structured";
  chain_id: Hex;
  nonce: Hex;
  max_priority_fee_per_gas: Hex;
  max_fee_per_gas: Hex;
  gas_limit: Hex;
  /** `null` creates a contract. */
  to: Address | null;
  value: Hex;
  data: Hex;
  access_list: { address: Address; storage_keys: Hex[] }[];
}

/** An EIP-1559 transaction with every field Odyn needs made explicit. */
export type Eip1559Tx = TransactionSerializableEIP1559 & {
  type: "eip1559";
  chainId: number;
  nonce: number;
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  value: bigint;
  data: Hex;
  accessList: AccessList;
};

const UINT256_MAX = (1n << 256n) - 1n;

function quantity(name: string, value: bigint | undefined, required: boolean): bigint {
  if (value === undefined) {
    if (required) throw new TeeInputError(`transaction ${name} is required`);
    return 0n;
  }
  if (typeof value !== "bigint" || value < 0n || value > UINT256_MAX) {
    throw new TeeInputError(`transaction ${name} must be a bigint in 0..2^256-1`);
  }
  return value;
}

function safeInteger(name: string, value: number | undefined, min: number): number {
  if (value === undefined) throw new TeeInputError(`transaction ${name} is required`);
  if (!Number.isSafeInteger(value) || value < min)
    throw new TeeInputError(`transaction ${name} must be an integer >= ${min}`);
  return value;
}

/** Accepts only what Odyn can sign: an unsigned EIP-1559 transaction with chain id, nonce, gas and fees. */
export function toEip1559(tx: TransactionSerializable): Eip1559Tx {
  const t = tx as TransactionSerializable & Record<string, unknown>;
  if (t.type !== undefined && t.type !== "eip1559")
    throw new TeeInputError(`only EIP-1559 transactions can be signed, got ${String(t.type)}`);
  for (const field of [
    "gasPrice",
    "blobs",
    "sidecars",
    "blobVersionedHashes",
    "maxFeePerBlobGas",
    "authorizationList",
  ]) {
    if (t[field] !== undefined) throw new TeeInputError(`only EIP-1559 transactions can be signed (${field} given)`);
  }
  for (const field of ["r", "s", "v", "yParity"]) {
    if (t[field] !== undefined) throw new TeeInputError("transaction is already signed");
  }
  const e = tx as TransactionSerializableEIP1559;
  const maxFeePerGas = quantity("maxFeePerGas", e.maxFeePerGas, true);
  const maxPriorityFeePerGas = quantity("maxPriorityFeePerGas", e.maxPriorityFeePerGas, true);
  if (maxPriorityFeePerGas > maxFeePerGas) throw new TeeInputError("maxPriorityFeePerGas exceeds maxFeePerGas");
  const gas = quantity("gas", e.gas, true);
  if (gas === 0n) throw new TeeInputError("transaction gas must be positive");
  if (e.to != null && !isAddress(e.to))
    throw new TeeInputError("transaction to is not an address (or its EIP-55 checksum is wrong)");
  if (e.data !== undefined && !isHex(e.data, { strict: true })) throw new TeeInputError("transaction data must be hex");
  if (e.data !== undefined && e.data.length % 2 !== 0) throw new TeeInputError("transaction data has odd length");
  const out: Eip1559Tx = {
    type: "eip1559",
    chainId: safeInteger("chainId", e.chainId, 1),
    nonce: safeInteger("nonce", e.nonce, 0),
    gas,
    maxFeePerGas,
    maxPriorityFeePerGas,
    value: quantity("value", e.value, false),
    data: (e.data ?? "0x").toLowerCase() as Hex,
    accessList: e.accessList ?? [],
  };
  if (e.to != null) out.to = e.to.toLowerCase() as Address;
  return out;
}

export function toOdynStructuredTx(tx: Eip1559Tx): OdynStructuredTx {
  return {
    kind: "structured",
    chain_id: numberToHex(tx.chainId),
    nonce: numberToHex(tx.nonce),
    max_priority_fee_per_gas: numberToHex(tx.maxPriorityFeePerGas),
    max_fee_per_gas: numberToHex(tx.maxFeePerGas),
    gas_limit: numberToHex(tx.gas),
    to: tx.to ?? null,
    value: numberToHex(tx.value),
    data: tx.data,
    access_list: tx.accessList.map((entry) => ({ address: entry.address, storage_keys: [...entry.storageKeys] })),
  };
}

// Hex quantities as Odyn parses them: 0x-prefixed, at most 256 bits.
const hexQuantity = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, "must be a 0x hex quantity of at most 256 bits");
const hexData = z.string().regex(/^0x(?:[0-9a-fA-F]{2})*$/, "must be 0x-prefixed hex of whole bytes");
const address = z
  .string()
  .refine((s) => isAddress(s), "must be a 20-byte hex address (EIP-55 checksum checked when mixed-case)");
const storageKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex storage key");

const structuredSchema = z
  .object({
    kind: z.literal("structured"),
    chain_id: hexQuantity,
    nonce: hexQuantity,
    max_priority_fee_per_gas: hexQuantity,
    max_fee_per_gas: hexQuantity,
    gas_limit: hexQuantity,
    to: address.nullable().optional(),
    value: hexQuantity.default("0x0"),
    data: hexData.default("0x"),
    access_list: z.array(z.object({ address, storage_keys: z.array(storageKey).default([]) }).strict()).default([]),
  })
  .strict();

const rawRlpSchema = z.object({ kind: z.literal("raw_rlp"), raw_payload: hexData }).strict();

export const odynTxPayloadSchema = z.discriminatedUnion("kind", [structuredSchema, rawRlpSchema]);

function smallInteger(name: string, hex: string): number {
  const value = hexToBigInt(hex as Hex);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TeeInputError(`${name} is too large`);
  return Number(value);
}

/** Parses a `/v1/eth/sign-tx` payload (structured or unsigned raw EIP-1559 RLP) into a checked transaction. */
export function fromOdynTxPayload(payload: unknown): Eip1559Tx {
  const parsed = odynTxPayloadSchema.safeParse(payload);
  if (!parsed.success)
    throw new TeeInputError(
      `invalid payload: ${parsed.error.issues.map((i) => `${i.path.join(".") || "payload"} ${i.message}`).join("; ")}`,
    );
  const p = parsed.data;
  if (p.kind === "raw_rlp") {
    let tx: TransactionSerializable;
    try {
      tx = parseTransaction(p.raw_payload as Hex);
    } catch {
      throw new TeeInputError("raw_payload is not a serialized transaction");
    }
    if (tx.type !== "eip1559") throw new TeeInputError("raw_payload must be an EIP-1559 transaction");
    // RLP writes zero as the empty string and viem's parser then leaves the field out.
    return toEip1559({
      ...tx,
      nonce: tx.nonce ?? 0,
      maxFeePerGas: tx.maxFeePerGas ?? 0n,
      maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? 0n,
      gas: tx.gas ?? 0n,
    });
  }
  const tx: TransactionSerializableEIP1559 = {
    type: "eip1559",
    chainId: smallInteger("chain_id", p.chain_id),
    nonce: smallInteger("nonce", p.nonce),
    maxPriorityFeePerGas: hexToBigInt(p.max_priority_fee_per_gas as Hex),
    maxFeePerGas: hexToBigInt(p.max_fee_per_gas as Hex),
    gas: hexToBigInt(p.gas_limit as Hex),
    value: hexToBigInt(p.value as Hex),
    data: p.data as Hex,
    accessList: p.access_list.map((e) => ({ address: getAddress(e.address), storageKeys: e.storage_keys as Hex[] })),
  };
  if (p.to != null) tx.to = p.to as Address;
  return toEip1559(tx);
}

/**
 * True when `signedRaw` is `tx` plus a signature: the unsigned serializations must be identical.
 * Comparing serializations (not field by field) covers every field, including ones added later.
 */
export function signedMatchesRequest(signedRaw: Hex, tx: Eip1559Tx): boolean {
  let parsed: ReturnType<typeof parseTransaction>;
  try {
    parsed = parseTransaction(signedRaw);
  } catch {
    return false;
  }
  if (parsed.type !== "eip1559" || parsed.r === undefined || parsed.s === undefined) return false;
  const { r: _r, s: _s, v: _v, yParity: _y, ...unsigned } = parsed;
  return serializeTransaction(unsigned as TransactionSerializableEIP1559) === serializeTransaction(tx);
}

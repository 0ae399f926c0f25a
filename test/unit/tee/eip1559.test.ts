import { describe, expect, it } from "vitest";
import { parseTransaction, serializeTransaction, type Hex } from "viem";
import {
  fromOdynTxPayload,
  signedMatchesRequest,
  toEip1559,
  toOdynStructuredTx,
} from "../../../enclave/tee/eip1559.js";
import { TeeInputError } from "../../../enclave/tee/tee.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const tx = {
  chainId: 8453,
  nonce: 0,
  gas: 21_000n,
  maxFeePerGas: 10n,
  maxPriorityFeePerGas: 0n,
  to: "0x742d35cc6634c0532925a3b844bc9e7595f0beb0",
  value: 0n,
} as const;

describe("EIP-1559 mapping to Odyn's structured payload", () => {
  it("writes every quantity as 0x hex (zero as 0x0), to as lower-case, defaults data and access list", () => {
    expect(toOdynStructuredTx(toEip1559(tx))).toEqual({
      kind: "structured",
      chain_id: "0x2105",
      nonce: "0x0",
      max_priority_fee_per_gas: "0x0",
      max_fee_per_gas: "0xa",
      gas_limit: "0x5208",
      to: "0x742d35cc6634c0532925a3b844bc9e7595f0beb0",
      value: "0x0",
      data: "0x",
      access_list: [],
    });
    expect(toOdynStructuredTx(toEip1559({ ...tx, to: undefined })).to).toBeNull();
  });

  it("round trips through the payload to the same serialized transaction", () => {
    const full = {
      ...tx,
      nonce: 9,
      value: 2n ** 200n,
      data: "0xABCDEF" as Hex,
      accessList: [
        {
          address: "0x00000000000000000000000000000000000000cc" as const,
          storageKeys: [`0x${"ab".repeat(32)}` as Hex],
        },
      ],
    };
    const back = fromOdynTxPayload(toOdynStructuredTx(toEip1559(full)));
    expect(serializeTransaction(back)).toBe(serializeTransaction({ ...full, type: "eip1559" }));
    // Odyn's defaults: value 0x0, data 0x, empty access list, absent to = contract creation.
    const minimal = fromOdynTxPayload({
      kind: "structured",
      chain_id: "0x1",
      nonce: "0x0",
      max_priority_fee_per_gas: "0x1",
      max_fee_per_gas: "0x1",
      gas_limit: "0x5208",
    });
    expect(minimal).toMatchObject({ value: 0n, data: "0x", accessList: [] });
    expect(minimal.to).toBeUndefined();
  });

  it("accepts an unsigned raw EIP-1559 payload and refuses other types", () => {
    const raw = serializeTransaction({ ...tx, type: "eip1559" });
    expect(serializeTransaction(fromOdynTxPayload({ kind: "raw_rlp", raw_payload: raw }))).toBe(raw);
    const legacy = serializeTransaction({ chainId: 1, nonce: 0, gas: 21000n, gasPrice: 1n, to: tx.to });
    expect(() => fromOdynTxPayload({ kind: "raw_rlp", raw_payload: legacy })).toThrow(TeeInputError);
    expect(() => fromOdynTxPayload({ kind: "raw_rlp", raw_payload: "0x02" })).toThrow(TeeInputError);
  });

  it("refuses quantities beyond 256 bits and nonces beyond safe integers", () => {
    const base = toOdynStructuredTx(toEip1559(tx));
    expect(() => fromOdynTxPayload({ ...base, value: `0x1${"0".repeat(64)}` })).toThrow(/value/);
    expect(() => fromOdynTxPayload({ ...base, nonce: "0x20000000000000" })).toThrow(/nonce/);
    expect(() => toEip1559({ ...tx, value: -1n })).toThrow(TeeInputError);
    expect(() => toEip1559({ ...tx, gas: 0n })).toThrow(/gas/);
    expect(() => toEip1559({ ...tx, chainId: 0 })).toThrow(/chainId/);
    expect(() => toEip1559({ ...tx, type: "eip2930" } as never)).toThrow(/EIP-1559/);
    // A mixed-case address with a wrong checksum is a typo: never send funds or calls there.
    expect(() => toEip1559({ ...tx, to: "0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb0" })).toThrow(/checksum/);
    expect(() => fromOdynTxPayload({ ...base, to: "0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb0" })).toThrow(/to/);
  });

  it("signedMatchesRequest holds for the signed request only", async () => {
    const tee = new SimulatedTee({ seed: "matcher" });
    const request = toEip1559(tx);
    const signed = await tee.signTransaction(request);
    expect(signedMatchesRequest(signed, request)).toBe(true);
    expect(signedMatchesRequest(signed, { ...request, nonce: 1 })).toBe(false);
    expect(signedMatchesRequest(serializeTransaction(request), request)).toBe(false); // unsigned
    expect(signedMatchesRequest("0x1234", request)).toBe(false);
    expect(parseTransaction(signed).type).toBe("eip1559");
  });
});

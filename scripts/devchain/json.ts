// JSON for humans and shell pipelines: bigints as decimal strings, bytes as 0x-hex.
import { toHex } from "viem";

export function toPrintableJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Uint8Array) return toHex(v);
      return v;
    },
    indent,
  );
}

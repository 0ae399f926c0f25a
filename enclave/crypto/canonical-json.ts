// Canonical JSON for envelope plaintexts (PROTOCOL.md §5): object keys sorted recursively, no
// whitespace. Keys are ordered by Unicode code point (what Python's sort_keys does), which differs
// from JS's default UTF-16 order only for keys mixing astral and high-BMP characters.
// Values follow JSON.stringify otherwise (toJSON honoured, undefined/functions dropped from
// objects and turned to null in arrays), but non-finite numbers, bigints and cycles throw instead of
// silently becoming null or overflowing the stack.

export class CanonicalJsonError extends Error {
  override name = "CanonicalJsonError";
}

function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done) return cb.done ? 0 : -1;
    if (cb.done) return 1;
    const d = (ca.value.codePointAt(0) ?? 0) - (cb.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

function compareKeys(a: string, b: string): number {
  // Fast path: plain ordering is code-point ordering unless a surrogate is involved.
  // eslint-disable-next-line no-control-regex
  if (!/[\ud800-\udfff]/.test(a) && !/[\ud800-\udfff]/.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return compareCodePoints(a, b);
}

function write(value: unknown, seen: Set<object>, inArray: boolean): string | undefined {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalJsonError("non-finite number cannot be encoded as JSON");
      return JSON.stringify(value);
    case "bigint":
      throw new CanonicalJsonError("bigint cannot be encoded as JSON (convert to string first)");
    case "undefined":
    case "function":
    case "symbol":
      return inArray ? "null" : undefined;
  }
  if (value === null) return "null";
  const obj = value as object;
  if (seen.has(obj)) throw new CanonicalJsonError("cyclic structure cannot be encoded as JSON");
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = `[${obj.map((item) => write(item, seen, true)).join(",")}]`;
  } else {
    const parts: string[] = [];
    const record = obj as Record<string, unknown>;
    for (const key of Object.keys(record).sort(compareKeys)) {
      const encoded = write(record[key], seen, false);
      if (encoded !== undefined) parts.push(`${JSON.stringify(key)}:${encoded}`);
    }
    out = `{${parts.join(",")}}`;
  }
  seen.delete(obj);
  return out;
}

/** UTF-8-ready canonical JSON text of `value` (keys sorted recursively, no whitespace). */
export function canonicalJson(value: unknown): string {
  const out = write(value, new Set(), false);
  if (out === undefined) throw new CanonicalJsonError("value has no JSON representation");
  return out;
}

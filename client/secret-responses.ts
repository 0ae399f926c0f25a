// Parsers for the secrets replies of PROTOCOL.md §12, in the style of key-responses.ts: typed
// fields, and the secret's name (and the version asked for) repeated exactly.
import { asked, b64, type Fields, int, object, pageOf, positiveInt, ResponseShapeError, str } from "./json-fields.js";

export interface SecretVersionRef {
  name: string;
  /** 1 for the first put, then one more per put. */
  version: number;
}

export interface Secret extends SecretVersionRef {
  value: Uint8Array;
}

export interface SecretSummary {
  name: string;
  latestVersion: number;
  updatedAtMs: number;
}

export interface SecretPage {
  secrets: SecretSummary[];
  nextPageToken?: string;
}

function ref(o: Fields, name: string): SecretVersionRef {
  return { name: asked("name", str(o, "name"), name), version: positiveInt(o, "version") };
}

export function secretPut(payload: unknown, name: string): SecretVersionRef {
  return ref(object(payload), name);
}

export function secret(payload: unknown, name: string, version: number | undefined): Secret {
  const o = object(payload);
  const result = { ...ref(o, name), value: b64(o, "value") };
  if (version !== undefined) asked("version", result.version, version);
  return result;
}

function summary(item: unknown): SecretSummary {
  const o = object(item, "secret summary");
  return {
    name: str(o, "name"),
    latestVersion: positiveInt(o, "latest_version"),
    updatedAtMs: int(o, "updated_at_ms"),
  };
}

export function secretPage(payload: unknown, pageSize: number): SecretPage {
  const { items, ...rest } = pageOf(object(payload), "secrets", pageSize, summary);
  return { secrets: items, ...rest };
}

export function secretDeleted(payload: unknown, name: string): true {
  const o = object(payload);
  asked("name", str(o, "name"), name);
  if (o.deleted !== true) throw new ResponseShapeError("field deleted is not true");
  return true;
}

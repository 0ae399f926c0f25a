// A write refused by a full reserved namespace (which never evicts) leaves nothing half-written.
import { expect, it } from "vitest";
import { reservedNamespaceOf } from "../../../enclave/keys/key-records.js";
import { QuotaExceededError } from "../../../enclave/store/errors.js";
import { singleNode, text } from "./helpers.js";
it("a secret put refused by the reserved namespace's quota leaves no record behind", async () => {
  const { secrets, store } = singleNode({ store: { limits: { maxKeysPerApp: 3 } } });
  await secrets.put(5n, "a", text("a"));
  await expect(secrets.put(5n, "b", text("b"))).rejects.toThrow(QuotaExceededError);
  expect(store.keys(reservedNamespaceOf(5n))).toEqual(["secret/a/meta", "secret/a/v/1"]);
});
it("a key create refused by the reserved namespace's quota leaves no record behind", async () => {
  const { keys, store } = singleNode({ store: { limits: { maxKeysPerApp: 3 } } });
  await keys.create(5n, { name: "a", purpose: "mac" });
  await expect(keys.create(5n, { name: "b", purpose: "mac" })).rejects.toThrow(QuotaExceededError);
  expect(store.keys(reservedNamespaceOf(5n))).toEqual(["key/a/meta", "key/a/v/1"]);
});

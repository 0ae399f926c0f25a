// The operation an app's request asks for, named once for both ends (README "API"). Our SDK sends
// it as `op` in each sealed body, and a node refuses a body whose `op` names another route: the
// PoP signature does not cover method or path, so without it a sealed body could be re-sent to
// another route. Existing clients send no `op`; for them the route's strict schema does that job.
// `kv.get` and `kv.delete` also name the question a signed 404 answers (reply-binding.ts).
export const OPERATIONS = {
  derive: "derive",
  signCert: "sign_cert",
  kvGet: "kv.get",
  kvPut: "kv.put",
  kvDelete: "kv.delete",
  // Named keys and secrets (PROTOCOL.md §12): one per route that takes a body.
  keysCreate: "keys.create",
  keysUpdate: "keys.update",
  keysRotate: "keys.rotate",
  keysEnable: "keys.enable",
  keysDisable: "keys.disable",
  keysDestroy: "keys.destroy",
  keysRestore: "keys.restore",
  keysEncrypt: "keys.encrypt",
  keysDecrypt: "keys.decrypt",
  keysReencrypt: "keys.reencrypt",
  keysDataKey: "keys.datakey",
  keysSign: "keys.sign",
  keysVerify: "keys.verify",
  keysMac: "keys.mac",
  keysVerifyMac: "keys.verify_mac",
  keysDecryptAsymmetric: "keys.decrypt_asymmetric",
  random: "random",
  secretsPut: "secrets.put",
  secretsDelete: "secrets.delete",
  // Not sent in bodies: what a proven 404 of a named key or secret route answers (reply-binding.ts).
  keysLookup: "keys.lookup",
  secretsLookup: "secrets.lookup",
} as const;

export type Operation = (typeof OPERATIONS)[keyof typeof OPERATIONS];

/** The operations whose miss a node answers with a proven 404 (the subject: a KV key, a key or secret name). */
export type LookupOperation =
  | typeof OPERATIONS.kvGet
  | typeof OPERATIONS.kvDelete
  | typeof OPERATIONS.keysLookup
  | typeof OPERATIONS.secretsLookup;

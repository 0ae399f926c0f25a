// The authorization rules of PROTOCOL.md §4 (apps) and §10 (peers) as a pure function of the
// three registry records, so the rules can be tested without a chain and read in one place.
import { parseP384PublicKey } from "../crypto/p384.js";
import {
  AppStatus,
  InstanceStatus,
  VersionStatus,
  type AppRecord,
  type InstanceRecord,
  type VersionRecord,
} from "../chain/types.js";

export interface RegisteredCaller {
  wallet: string;
  instanceId: bigint;
  appId: bigint;
  versionId: bigint;
  versionStatus: number;
  instanceUrl: string;
  /** The on-chain teePubkey as a validated SEC1 point (registered as SPKI or SEC1). */
  teePublicKey: Uint8Array;
}

/** A rule the caller failed, with the message PROTOCOL.md §4 names. */
export class RuleViolation extends Error {
  override name = "RuleViolation";
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

export function checkInstanceRules(instance: InstanceRecord): void {
  if (instance.id === 0n) throw new RuleViolation("instance_not_found", "Instance not found");
  if (instance.status !== InstanceStatus.ACTIVE) throw new RuleViolation("instance_not_active", "Instance not active");
  if (!instance.zkVerified) throw new RuleViolation("instance_not_zkverified", "Instance not zkVerified");
}

export function checkAppAndVersionRules(app: AppRecord, version: VersionRecord): void {
  if (app.id === 0n || app.status !== AppStatus.ACTIVE) throw new RuleViolation("app_not_active", "App not active");
  if (version.id === 0n) throw new RuleViolation("version_not_found", "Version not found");
  if (version.status === VersionStatus.REVOKED) throw new RuleViolation("version_revoked", "Version revoked");
  if (version.status !== VersionStatus.ENROLLED && version.status !== VersionStatus.DEPRECATED) {
    throw new RuleViolation("version_unknown_status", "Version status not allowed");
  }
}

export function toRegisteredCaller(instance: InstanceRecord, version: VersionRecord): RegisteredCaller {
  let teePublicKey: Uint8Array;
  try {
    teePublicKey = parseP384PublicKey(instance.teePubkey);
  } catch {
    throw new RuleViolation("instance_bad_pubkey", "Instance teePubkey invalid");
  }
  return {
    wallet: instance.teeWallet,
    instanceId: instance.id,
    appId: instance.appId,
    versionId: instance.versionId,
    versionStatus: version.status,
    instanceUrl: instance.instanceUrl,
    teePublicKey,
  };
}

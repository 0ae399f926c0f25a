import { describe, expect, it } from "vitest";
import { checkAppAndVersionRules, checkInstanceRules, RuleViolation } from "../../../enclave/auth/registry-rules.js";
import type { AppRecord, InstanceRecord, VersionRecord } from "../../../enclave/chain/types.js";

const zero = "0x0000000000000000000000000000000000000000" as const;
const instance: InstanceRecord = {
  id: 3n,
  appId: 2n,
  versionId: 1n,
  operator: zero,
  instanceUrl: "http://x",
  teePubkey: new Uint8Array(97),
  teeWallet: zero,
  zkVerified: true,
  status: 0,
  registeredAt: 1n,
};
const app: AppRecord = {
  id: 2n,
  owner: zero,
  teeArch: "0x00",
  dappContract: zero,
  metadataUri: "",
  latestVersionId: 1n,
  createdAt: 1n,
  status: 0,
  appWallet: zero,
};
const version: VersionRecord = {
  id: 1n,
  versionName: "v1",
  codeMeasurement: "0x00",
  imageUri: "",
  auditUrl: "",
  auditHash: "",
  githubRunId: "",
  status: 0,
  enrolledAt: 1n,
  enrolledBy: zero,
};

function ruleOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(RuleViolation);
    return (e as RuleViolation).message;
  }
}

describe("registry rules (PROTOCOL §4)", () => {
  it("accepts an active, zkVerified instance of an active app with an enrolled or deprecated version", () => {
    expect(ruleOf(() => checkInstanceRules(instance))).toBeUndefined();
    expect(ruleOf(() => checkAppAndVersionRules(app, version))).toBeUndefined();
    expect(ruleOf(() => checkAppAndVersionRules(app, { ...version, status: 1 }))).toBeUndefined();
  });

  it.each([
    [{ id: 0n }, "Instance not found"],
    [{ status: 1 }, "Instance not active"],
    [{ status: 2 }, "Instance not active"],
    [{ zkVerified: false }, "Instance not zkVerified"],
  ])("instance %o → %s", (patch, message) => {
    expect(ruleOf(() => checkInstanceRules({ ...instance, ...patch }))).toBe(message);
  });

  it.each([
    [{ status: 1 }, {}, "App not active"],
    [{ status: 2 }, {}, "App not active"],
    [{ id: 0n }, {}, "App not active"],
    [{}, { status: 2 }, "Version revoked"],
    [{}, { id: 0n }, "Version not found"],
    [{}, { status: 7 }, "Version status not allowed"],
  ])("app %o version %o → %s", (appPatch, versionPatch, message) => {
    expect(ruleOf(() => checkAppAndVersionRules({ ...app, ...appPatch }, { ...version, ...versionPatch }))).toBe(
      message,
    );
  });
});

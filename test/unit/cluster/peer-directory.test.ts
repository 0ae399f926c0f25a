// Membership as the directory reads it from the registry (PROTOCOL.md §10): only ACTIVE, zkVerified
// instances of KMS_APP_ID whose version is not REVOKED are members; members whose URL or key is
// unusable are listed with the reason but never contacted.
import { describe, expect, it } from "vitest";
import { PeerDirectory } from "../../../enclave/cluster/peer-directory.js";
import {
  InstanceStatus,
  type InstanceRecord,
  type LowerAddress,
  VersionStatus,
  type VersionRecord,
} from "../../../enclave/chain/types.js";
import { createLogger } from "../../../enclave/log.js";
import { simulatedIdentity } from "../../../enclave/tee/simulated.js";

const KMS_APP = 1n;
const SELF = simulatedIdentity("dir-self").wallet;

/** One registered instance; `seed` gives it a real wallet and key, `version` picks its version id. */
function instance(seed: string, id: bigint, version: bigint, extra: Partial<InstanceRecord> = {}): InstanceRecord {
  const identity = simulatedIdentity(seed);
  return {
    id,
    appId: KMS_APP,
    versionId: version,
    operator: "0x000000000000000000000000000000000000000a" as LowerAddress,
    instanceUrl: `http://127.0.0.1:${9000 + Number(id)}/`,
    teePubkey: identity.teePubkeySpki,
    teeWallet: identity.wallet as LowerAddress,
    zkVerified: true,
    status: InstanceStatus.ACTIVE,
    registeredAt: 1n,
    ...extra,
  };
}

function version(id: bigint, status: number): VersionRecord {
  return {
    id,
    versionName: `v${id}`,
    codeMeasurement: "0x00",
    imageUri: "",
    auditUrl: "",
    auditHash: "",
    githubRunId: "",
    status,
    enrolledAt: 1n,
    enrolledBy: "0x000000000000000000000000000000000000000b" as LowerAddress,
  };
}

/** A directory over a fake registry holding these instances and versions. */
function directoryOver(instances: InstanceRecord[], versions: VersionRecord[]) {
  const byWallet = new Map(instances.map((i) => [i.teeWallet, i]));
  const byId = new Map(versions.map((v) => [v.id, v]));
  return new PeerDirectory({
    registry: {
      getActiveInstances: async () => instances.map((i) => i.teeWallet),
      getInstanceByWallet: async (wallet) => byWallet.get(wallet.toLowerCase() as LowerAddress)!,
      getVersion: async (_app, id) => byId.get(id)!,
    },
    kmsAppId: KMS_APP,
    selfWallet: SELF,
    policy: { enclaveMode: false },
    log: createLogger("silent"),
  });
}

describe("PeerDirectory", () => {
  it("keeps ENROLLED and DEPRECATED versions and drops REVOKED ones, from peers and from the member list", async () => {
    const dir = directoryOver(
      [
        instance("dir-self", 1n, 10n),
        instance("dir-enrolled", 2n, 10n),
        instance("dir-deprecated", 3n, 11n),
        instance("dir-revoked", 4n, 12n),
      ],
      [
        version(10n, VersionStatus.ENROLLED),
        version(11n, VersionStatus.DEPRECATED),
        version(12n, VersionStatus.REVOKED),
      ],
    );
    await dir.refresh();
    const wallet = (seed: string) => simulatedIdentity(seed).wallet;
    expect(dir.peers().map((p) => p.wallet)).toEqual([wallet("dir-enrolled"), wallet("dir-deprecated")]);
    expect(dir.peers().map((p) => p.versionStatus)).toEqual([VersionStatus.ENROLLED, VersionStatus.DEPRECATED]);
    expect(dir.members().members.map((m) => [m.wallet, m.self])).toEqual([
      [SELF, true],
      [wallet("dir-enrolled"), false],
      [wallet("dir-deprecated"), false],
    ]);
  });

  it("drops instances that are not ACTIVE, not zkVerified, or of another app", async () => {
    const dir = directoryOver(
      [
        instance("dir-stopped", 2n, 10n, { status: InstanceStatus.STOPPED }),
        instance("dir-unverified", 3n, 10n, { zkVerified: false }),
        instance("dir-other-app", 4n, 10n, { appId: 99n }),
        instance("dir-ok", 5n, 10n),
      ],
      [version(10n, VersionStatus.ENROLLED)],
    );
    await dir.refresh();
    expect(dir.members().members.map((m) => m.wallet)).toEqual([simulatedIdentity("dir-ok").wallet]);
  });

  it("lists a member with an unusable key as excluded, never as a peer, and strips the URL's trailing slash", async () => {
    const dir = directoryOver(
      [instance("dir-bad-key", 2n, 10n, { teePubkey: new Uint8Array(5) }), instance("dir-ok", 3n, 10n)],
      [version(10n, VersionStatus.ENROLLED)],
    );
    await dir.refresh();
    expect(dir.peers().map((p) => [p.wallet, p.url])).toEqual([
      [simulatedIdentity("dir-ok").wallet, "http://127.0.0.1:9003"],
    ]);
    expect(dir.members().members.find((m) => m.wallet === simulatedIdentity("dir-bad-key").wallet)?.excluded).toBe(
      "invalid teePubkey",
    );
  });
});

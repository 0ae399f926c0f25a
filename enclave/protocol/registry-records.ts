// Typed views of NovaAppRegistry records (PROTOCOL.md §6). Ids are bigint as on chain, wallets are
// lower-case hex (the canonical form used in signed strings and JSON), enums are plain numbers.
// Part of the protocol module because clients read the same records (node discovery); the node's
// chain code reaches them through enclave/chain/types.ts.
import type { Address, Hex } from "viem";

export const AppStatus = { ACTIVE: 0, INACTIVE: 1, REVOKED: 2 } as const;
export type AppStatus = (typeof AppStatus)[keyof typeof AppStatus];

export const VersionStatus = { ENROLLED: 0, DEPRECATED: 1, REVOKED: 2 } as const;
export type VersionStatus = (typeof VersionStatus)[keyof typeof VersionStatus];

export const InstanceStatus = { ACTIVE: 0, STOPPED: 1, FAILED: 2 } as const;
export type InstanceStatus = (typeof InstanceStatus)[keyof typeof InstanceStatus];

/** A lower-case `0x` + 40 hex address. */
export type LowerAddress = Lowercase<Address>;

export interface AppRecord {
  /** 0n when the app does not exist. */
  id: bigint;
  owner: LowerAddress;
  teeArch: Hex;
  dappContract: LowerAddress;
  metadataUri: string;
  latestVersionId: bigint;
  createdAt: bigint;
  /** Raw enum value; compare against AppStatus. Kept as number so an unexpected value is visible, not coerced. */
  status: number;
  appWallet: LowerAddress;
}

export interface VersionRecord {
  /** 0n when the version does not exist. */
  id: bigint;
  versionName: string;
  codeMeasurement: Hex;
  imageUri: string;
  auditUrl: string;
  auditHash: string;
  githubRunId: string;
  status: number;
  enrolledAt: bigint;
  enrolledBy: LowerAddress;
}

export interface InstanceRecord {
  /** 0n when no instance is registered for the wallet. */
  id: bigint;
  appId: bigint;
  versionId: bigint;
  operator: LowerAddress;
  instanceUrl: string;
  /** Raw bytes as registered (DER SPKI or SEC1 point; see PROTOCOL.md §1). */
  teePubkey: Uint8Array;
  teeWallet: LowerAddress;
  zkVerified: boolean;
  status: number;
  registeredAt: bigint;
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title INovaAppRegistry
/// @notice The read side of the Nova platform's app registry, as KMS nodes, KMS clients and our
///         KMSRegistry consume it (PROTOCOL.md §6).
/// @dev The struct layouts and enum values are part of the wire contract with the real platform
///      registry: views return one ABI tuple per struct, so field order and types must not change,
///      or decoding against the real registry silently shifts fields.
interface INovaAppRegistry {
    /// @dev Values are ABI-encoded as uint8; the numbering is fixed by the platform.
    enum AppStatus {
        ACTIVE,
        INACTIVE,
        REVOKED
    }

    /// @dev DEPRECATED versions keep serving existing instances; REVOKED ones must not be trusted.
    enum VersionStatus {
        ENROLLED,
        DEPRECATED,
        REVOKED
    }

    enum InstanceStatus {
        ACTIVE,
        STOPPED,
        FAILED
    }

    struct App {
        uint256 id;
        address owner;
        bytes32 teeArch;
        address dappContract;
        string metadataUri;
        uint256 latestVersionId;
        uint256 createdAt;
        AppStatus status;
        address appWallet;
    }

    struct Version {
        uint256 id;
        string versionName;
        bytes32 codeMeasurement;
        string imageUri;
        string auditUrl;
        string auditHash;
        string githubRunId;
        VersionStatus status;
        uint256 enrolledAt;
        address enrolledBy;
    }

    struct Instance {
        uint256 id;
        uint256 appId;
        uint256 versionId;
        address operator;
        string instanceUrl;
        bytes teePubkey;
        address teeWalletAddress;
        bool zkVerified;
        InstanceStatus status;
        uint256 registeredAt;
    }

    /// @notice The app with this id. Implementations may revert for an unknown id.
    function getApp(uint256 appId) external view returns (App memory);

    /// @notice One version of one app. Implementations may revert for an unknown pair.
    function getVersion(uint256 appId, uint256 versionId) external view returns (Version memory);

    /// @notice The instance whose enclave wallet is `wallet`.
    /// @dev An unknown wallet yields a zeroed struct (`id == 0`) rather than a revert, so callers
    ///      can tell "not registered" apart from "registry unreadable".
    function getInstanceByWallet(address wallet) external view returns (Instance memory);

    /// @notice Wallets of the app's instances whose status is ACTIVE.
    function getActiveInstances(uint256 appId) external view returns (address[] memory);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {INovaAppRegistry} from "./INovaAppRegistry.sol";

/// @title ILocalNovaAppRegistry
/// @notice The platform registry's views plus the owner-only admin calls that simulation scripts and
///         tests use to play the part of the Nova platform (PROTOCOL.md §6).
interface ILocalNovaAppRegistry is INovaAppRegistry {
    // ----- errors -----
    error NotOwner(address caller);
    error ZeroAddress();
    error AppNotFound(uint256 appId);
    error VersionNotFound(uint256 appId, uint256 versionId);
    error InstanceNotFound(uint256 instanceId);
    /// @notice getInstanceByWallet maps a wallet to one instance, so a wallet is registered at most once.
    error WalletAlreadyRegistered(address wallet, uint256 instanceId);
    /// @notice New instances are only accepted for an ACTIVE app ...
    error AppNotActive(uint256 appId);
    /// @notice ... on an ENROLLED version (deprecated versions are historical, as on the platform).
    error VersionNotEnrolled(uint256 appId, uint256 versionId);
    /// @notice A status argument was outside its enum's range.
    error InvalidStatus(uint8 status);

    // ----- events -----
    event AppCreated(uint256 indexed appId, address indexed owner, address indexed dappContract, string metadataUri);
    event VersionEnrolled(uint256 indexed appId, uint256 indexed versionId, string versionName, bytes32 codeMeasurement);
    event InstanceRegistered(
        uint256 indexed instanceId,
        uint256 indexed appId,
        address indexed teeWallet,
        uint256 versionId,
        address operator,
        string instanceUrl,
        bytes teePubkey
    );
    event InstanceZkVerifiedSet(uint256 indexed instanceId, bool zkVerified);
    event InstanceStatusSet(uint256 indexed instanceId, InstanceStatus previous, InstanceStatus current);
    event VersionStatusSet(uint256 indexed appId, uint256 indexed versionId, VersionStatus previous, VersionStatus current);
    event AppStatusSet(uint256 indexed appId, AppStatus previous, AppStatus current);

    // ----- admin (owner only) -----
    function owner() external view returns (address);
    function createApp(address appOwner, address dappContract, string calldata metadataUri) external returns (uint256 appId);
    function enrollVersion(uint256 appId, string calldata versionName, bytes32 codeMeasurement)
        external
        returns (uint256 versionId);
    function registerInstance(
        uint256 appId,
        uint256 versionId,
        address operator,
        string calldata instanceUrl,
        bytes calldata teePubkey,
        address teeWallet
    ) external returns (uint256 instanceId);
    function setZkVerified(uint256 instanceId, bool zkVerified) external;
    function setInstanceStatus(uint256 instanceId, uint8 status) external;
    function setVersionStatus(uint256 appId, uint256 versionId, uint8 status) external;
    function setAppStatus(uint256 appId, uint8 status) external;

    // ----- extra views -----
    function appCount() external view returns (uint256);
    function instanceCount() external view returns (uint256);
    function getInstance(uint256 instanceId) external view returns (Instance memory);
}

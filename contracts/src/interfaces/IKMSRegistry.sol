// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {INovaAppOperatorCallbacks} from "./INovaAppOperatorCallbacks.sol";

/// @title IKMSRegistry
/// @notice The KMS cluster's on-chain anchor: which app id is "the KMS", the hash of the cluster's
///         master secret, and the set of enclave wallets currently operating the KMS (PROTOCOL.md §6).
interface IKMSRegistry is INovaAppOperatorCallbacks {
    // ----- errors -----
    /// @notice An owner-only function was called by someone else.
    error NotOwner(address caller);
    /// @notice An operator callback came from an address other than the app registry.
    error NotRegistry(address caller);
    /// @notice A required address argument was zero.
    error ZeroAddress();
    /// @notice `setKmsAppId(0)`: zero means "unset", so it cannot be chosen.
    error InvalidKmsAppId();
    /// @notice The KMS app id can only be chosen once.
    error KmsAppIdAlreadySet(uint256 current);
    /// @notice The operation needs the KMS app id, which has not been chosen yet.
    error KmsAppIdNotSet();
    /// @notice A callback named an app other than the KMS app.
    error AppIdMismatch(uint256 expected, uint256 actual);
    /// @notice The zero hash means "unset" and cannot be written as a value.
    error ZeroHash();
    /// @notice First writer wins: a hash is already recorded.
    error MasterSecretHashAlreadySet(bytes32 current);
    /// @notice The caller is not an ACTIVE, zkVerified instance of the KMS app on an ENROLLED version
    ///         of an ACTIVE app (or the registry could not confirm it).
    error NotEligibleSetter(address caller);
    /// @notice `operatorAt` was asked for an index past the end.
    error IndexOutOfBounds(uint256 index, uint256 length);

    // ----- events -----
    event KmsAppIdSet(uint256 indexed appId);
    event MasterSecretHashSet(bytes32 indexed hash, address indexed setter);
    event MasterSecretHashReset(bytes32 indexed previousHash, address indexed by);
    event OperatorAdded(address indexed wallet, uint256 indexed appId, uint256 versionId, uint256 instanceId);
    event OperatorRemoved(address indexed wallet, uint256 indexed appId, uint256 versionId, uint256 instanceId);

    // ----- configuration -----
    function owner() external view returns (address);
    function novaAppRegistry() external view returns (address);
    function kmsAppId() external view returns (uint256);
    function setKmsAppId(uint256 appId) external;

    // ----- master secret -----
    function masterSecretHash() external view returns (bytes32);
    function setMasterSecretHash(bytes32 newHash) external;
    function resetMasterSecretHash() external;
    function isEligibleSetter(address wallet) external view returns (bool);

    // ----- operators -----
    function isOperator(address wallet) external view returns (bool);
    function operatorCount() external view returns (uint256);
    function operatorAt(uint256 index) external view returns (address);
    function getOperators() external view returns (address[] memory);
    function getOperatorsPage(uint256 offset, uint256 limit) external view returns (address[] memory);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IKMSRegistry} from "./interfaces/IKMSRegistry.sol";
import {INovaAppRegistry} from "./interfaces/INovaAppRegistry.sol";

/// @title KMSRegistry
/// @notice On-chain anchor of one Nova KMS cluster (PROTOCOL.md §6-7):
///         - `kmsAppId`: which Nova app is the KMS; chosen once by the owner.
///         - `masterSecretHash`: keccak256 of the cluster's master secret. Nodes serve only while they
///           hold a secret matching it, so whoever writes it first decides the cluster's secret;
///           only a fully trusted KMS enclave (see `isEligibleSetter`) may write it.
///         - the operator set: enclave wallets that the Nova registry reports as operating the KMS app,
///           kept current exclusively by the registry's callbacks.
/// @dev The contract is deliberately not upgradeable and the owner is immutable: the owner can only
///      pick the app id (once) and wipe the hash for a deliberate re-key, never choose a hash or an
///      operator itself.
contract KMSRegistry is IKMSRegistry {
    address public immutable owner;
    /// @notice The Nova app registry that is the sole source of truth about enclaves.
    address public immutable novaAppRegistry;

    uint256 public kmsAppId;
    bytes32 public masterSecretHash;

    /// @dev Operator set with O(1) add and remove: members in an array, each member's position plus
    ///      one in a map (0 = absent). Removal moves the last member into the freed slot.
    address[] private _operators;
    mapping(address wallet => uint256 slot) private _operatorSlot;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @dev Callbacks must come from the registry and concern the KMS app: anything else would let an
    ///      unrelated app's instances appear as KMS operators.
    modifier onlyRegistryForKmsApp(uint256 appId) {
        if (msg.sender != novaAppRegistry) revert NotRegistry(msg.sender);
        uint256 expected = kmsAppId;
        if (expected == 0) revert KmsAppIdNotSet();
        if (appId != expected) revert AppIdMismatch(expected, appId);
        _;
    }

    /// @param initialOwner the account allowed to set the app id and reset the hash.
    /// @param appRegistry the platform registry (LocalNovaAppRegistry in simulation). Its code is
    ///        not required to exist yet, so a registry can be deployed after (or by) this contract.
    constructor(address initialOwner, address appRegistry) {
        if (initialOwner == address(0) || appRegistry == address(0)) revert ZeroAddress();
        owner = initialOwner;
        novaAppRegistry = appRegistry;
    }

    // ------------------------------------------------------------------ configuration

    /// @notice Binds this registry to one Nova app. Once only: changing it later would silently hand the
    ///         master-secret and operator rights to another app's enclaves.
    function setKmsAppId(uint256 appId) external onlyOwner {
        if (appId == 0) revert InvalidKmsAppId();
        if (kmsAppId != 0) revert KmsAppIdAlreadySet(kmsAppId);
        kmsAppId = appId;
        emit KmsAppIdSet(appId);
    }

    // ------------------------------------------------------------------ master secret

    /// @notice Records the cluster's master-secret hash. First writer wins: once set, it only changes
    ///         through `resetMasterSecretHash`, so two nodes racing to bootstrap end on one secret.
    function setMasterSecretHash(bytes32 newHash) external {
        if (newHash == bytes32(0)) revert ZeroHash();
        if (masterSecretHash != bytes32(0)) revert MasterSecretHashAlreadySet(masterSecretHash);
        if (kmsAppId == 0) revert KmsAppIdNotSet();
        if (!isEligibleSetter(msg.sender)) revert NotEligibleSetter(msg.sender);
        masterSecretHash = newHash;
        emit MasterSecretHashSet(newHash, msg.sender);
    }

    /// @notice Clears the hash so the next eligible node bootstraps a new secret (a deliberate re-key;
    ///         every key derived from the old secret becomes unreachable).
    function resetMasterSecretHash() external onlyOwner {
        bytes32 previous = masterSecretHash;
        masterSecretHash = bytes32(0);
        emit MasterSecretHashReset(previous, msg.sender);
    }

    /// @notice Whether `wallet` may write the master-secret hash now: it is the wallet of an instance of
    ///         the KMS app that is ACTIVE and zkVerified, runs an ENROLLED version, and the app is ACTIVE.
    /// @dev Asked of the registry on every call, never cached, so revocations apply at once. A registry
    ///      call that reverts counts as "not eligible": an unreadable registry must never grant rights.
    function isEligibleSetter(address wallet) public view returns (bool) {
        uint256 appId = kmsAppId;
        if (appId == 0 || wallet == address(0)) return false;
        INovaAppRegistry registry = INovaAppRegistry(novaAppRegistry);
        // try/catch cannot catch a call to an address without code (the empty return data fails to
        // decode in this frame), so rule that case out first.
        if (address(registry).code.length == 0) return false;

        uint256 versionId;
        try registry.getInstanceByWallet(wallet) returns (INovaAppRegistry.Instance memory inst) {
            if (
                inst.id == 0 || inst.appId != appId || inst.teeWalletAddress != wallet
                    || inst.status != INovaAppRegistry.InstanceStatus.ACTIVE || !inst.zkVerified
            ) return false;
            versionId = inst.versionId;
        } catch {
            return false;
        }

        try registry.getVersion(appId, versionId) returns (INovaAppRegistry.Version memory version) {
            if (version.status != INovaAppRegistry.VersionStatus.ENROLLED) return false;
        } catch {
            return false;
        }

        try registry.getApp(appId) returns (INovaAppRegistry.App memory app) {
            if (app.status != INovaAppRegistry.AppStatus.ACTIVE) return false;
        } catch {
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ operator callbacks

    /// @notice Registry callback: `wallet` now operates the KMS app. Adding a present member is a no-op
    ///         (no event), because the platform, not this contract, decides when it calls.
    function addOperator(address wallet, uint256 appId, uint256 versionId, uint256 instanceId)
        external
        onlyRegistryForKmsApp(appId)
    {
        if (wallet == address(0)) revert ZeroAddress();
        if (_operatorSlot[wallet] != 0) return;
        _operators.push(wallet);
        _operatorSlot[wallet] = _operators.length;
        emit OperatorAdded(wallet, appId, versionId, instanceId);
    }

    /// @notice Registry callback: `wallet` no longer operates the KMS app. Removing a non-member is a
    ///         no-op (no event), for the same reason as above.
    function removeOperator(address wallet, uint256 appId, uint256 versionId, uint256 instanceId)
        external
        onlyRegistryForKmsApp(appId)
    {
        uint256 slot = _operatorSlot[wallet];
        if (slot == 0) return;
        uint256 last = _operators.length;
        if (slot != last) {
            address moved = _operators[last - 1];
            _operators[slot - 1] = moved;
            _operatorSlot[moved] = slot;
        }
        _operators.pop();
        delete _operatorSlot[wallet];
        emit OperatorRemoved(wallet, appId, versionId, instanceId);
    }

    // ------------------------------------------------------------------ operator views

    function isOperator(address wallet) external view returns (bool) {
        return _operatorSlot[wallet] != 0;
    }

    function operatorCount() external view returns (uint256) {
        return _operators.length;
    }

    /// @notice The member at `index` (order is arbitrary and changes on removal).
    function operatorAt(uint256 index) external view returns (address) {
        uint256 length = _operators.length;
        if (index >= length) revert IndexOutOfBounds(index, length);
        return _operators[index];
    }

    /// @notice The whole set; for large sets prefer `getOperatorsPage` to bound the response.
    function getOperators() external view returns (address[] memory) {
        return _operators;
    }

    /// @notice Up to `limit` members starting at `offset`; an offset at or past the end yields [].
    function getOperatorsPage(uint256 offset, uint256 limit) external view returns (address[] memory page) {
        uint256 length = _operators.length;
        if (offset >= length || limit == 0) return new address[](0);
        uint256 end = length - offset < limit ? length : offset + limit;
        page = new address[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            page[i - offset] = _operators[i];
        }
    }
}

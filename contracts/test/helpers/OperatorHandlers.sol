// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {KMSRegistry} from "../../src/KMSRegistry.sol";
import {LocalNovaAppRegistry} from "../../src/LocalNovaAppRegistry.sol";
import {INovaAppRegistry} from "../../src/interfaces/INovaAppRegistry.sol";

/// @dev A small wallet pool makes the fuzzer hit the same wallets repeatedly (re-adds, removals of
///      members in every slot), which is where set bugs hide.
abstract contract WalletPool {
    uint256 public constant POOL_SIZE = 8;

    function poolWallet(uint256 seed) public pure returns (address) {
        return address(uint160(0x1000 + (seed % POOL_SIZE)));
    }
}

/// @notice Plays the registry towards a KMSRegistry, issuing random add/remove callbacks and keeping a
///         boolean model of what the set must contain.
contract DirectCallbackHandler is WalletPool {
    KMSRegistry public immutable kms;
    uint256 public constant APP_ID = 1;

    mapping(address => bool) public modelMember;
    uint256 public modelCount;
    uint256 public calls;

    constructor() {
        kms = new KMSRegistry(address(this), address(this));
        kms.setKmsAppId(APP_ID);
    }

    function add(uint256 seed) external {
        address wallet = poolWallet(seed);
        kms.addOperator(wallet, APP_ID, 1, seed % POOL_SIZE + 1);
        if (!modelMember[wallet]) ++modelCount;
        modelMember[wallet] = true;
        ++calls;
    }

    function remove(uint256 seed) external {
        address wallet = poolWallet(seed);
        kms.removeOperator(wallet, APP_ID, 1, seed % POOL_SIZE + 1);
        if (modelMember[wallet]) --modelCount;
        modelMember[wallet] = false;
        ++calls;
    }
}

/// @notice Drives the whole stack the way the platform would: instances are registered, verified,
///         stopped and revived in LocalNovaAppRegistry, and KMSRegistry must follow through callbacks.
contract RegistryDrivenHandler is WalletPool {
    LocalNovaAppRegistry public immutable registry;
    KMSRegistry public immutable kms;
    uint256 public immutable appId;
    uint256 public immutable versionId;

    constructor() {
        registry = new LocalNovaAppRegistry();
        kms = new KMSRegistry(address(this), address(registry));
        appId = registry.createApp(address(this), address(kms), "ipfs://kms");
        versionId = registry.enrollVersion(appId, "v1", keccak256("m"));
        kms.setKmsAppId(appId);
    }

    function register(uint256 seed) external {
        address wallet = poolWallet(seed);
        if (registry.getInstanceByWallet(wallet).id != 0) return;
        registry.registerInstance(appId, versionId, address(this), "http://node", hex"04", wallet);
    }

    function setZkVerified(uint256 seed, bool verified) external {
        uint256 id = registry.getInstanceByWallet(poolWallet(seed)).id;
        if (id == 0) return;
        registry.setZkVerified(id, verified);
    }

    function setInstanceStatus(uint256 seed, uint8 status) external {
        uint256 id = registry.getInstanceByWallet(poolWallet(seed)).id;
        if (id == 0) return;
        registry.setInstanceStatus(id, status % 3);
    }

    /// @dev Expected operator-ness of a pool wallet, read from the registry's own state.
    function shouldBeOperator(address wallet) public view returns (bool) {
        INovaAppRegistry.Instance memory inst = registry.getInstanceByWallet(wallet);
        return inst.id != 0 && inst.zkVerified && inst.status == INovaAppRegistry.InstanceStatus.ACTIVE;
    }

    function shouldBeActive(address wallet) public view returns (bool) {
        INovaAppRegistry.Instance memory inst = registry.getInstanceByWallet(wallet);
        return inst.id != 0 && inst.status == INovaAppRegistry.InstanceStatus.ACTIVE;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "../base/TestBase.sol";
import {LocalNovaAppRegistry} from "../../src/LocalNovaAppRegistry.sol";
import {KMSRegistry} from "../../src/KMSRegistry.sol";

/// @notice The deployment every KMS test starts from, in the order the dev chain uses: platform
///         registry, KMSRegistry pointing at it, the KMS app (dappContract = KMSRegistry), one enrolled
///         version, then `setKmsAppId`. The test contract itself is the registry's owner (platform).
abstract contract KmsFixture is TestBase {
    LocalNovaAppRegistry internal registry;
    KMSRegistry internal kms;

    address internal constant KMS_OWNER = address(0x0A11CE);
    address internal constant APP_OWNER = address(0xB0B);
    address internal constant NODE_OPERATOR = address(0x0E0E);
    bytes32 internal constant MEASUREMENT = keccak256("kms-image-v1");

    uint256 internal kmsAppId;
    uint256 internal kmsVersionId;

    function setUp() public virtual {
        registry = new LocalNovaAppRegistry();
        kms = new KMSRegistry(KMS_OWNER, address(registry));
        kmsAppId = registry.createApp(APP_OWNER, address(kms), "ipfs://kms");
        kmsVersionId = registry.enrollVersion(kmsAppId, "v1", MEASUREMENT);
        vm.prank(KMS_OWNER);
        kms.setKmsAppId(kmsAppId);
    }

    /// @dev A deterministic, distinct wallet per seed (never zero, never a precompile).
    function walletOf(uint256 seed) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("wallet", seed)))));
    }

    /// @dev Registers `wallet` as an instance of `appId`/`versionId` (ACTIVE, not zkVerified).
    function registerNode(uint256 appId, uint256 versionId, address wallet) internal returns (uint256) {
        return registry.registerInstance(
            appId, versionId, NODE_OPERATOR, "http://127.0.0.1:4000", abi.encodePacked(keccak256(abi.encode(wallet))), wallet
        );
    }

    /// @dev A fully trusted KMS node: registered and zkVerified, hence an operator.
    function spawnKmsNode(address wallet) internal returns (uint256 instanceId) {
        instanceId = registerNode(kmsAppId, kmsVersionId, wallet);
        registry.setZkVerified(instanceId, true);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {KmsFixture} from "./helpers/KmsFixture.sol";
import {Vm} from "./base/Vm.sol";
import {KMSRegistry} from "../src/KMSRegistry.sol";
import {IKMSRegistry} from "../src/interfaces/IKMSRegistry.sol";
import {INovaAppRegistry} from "../src/interfaces/INovaAppRegistry.sol";
import {ILocalNovaAppRegistry} from "../src/interfaces/ILocalNovaAppRegistry.sol";

contract KMSRegistryTest is KmsFixture {
    address internal constant STRANGER = address(0xBAD);
    bytes32 internal constant HASH_A = keccak256("secret-a");
    bytes32 internal constant HASH_B = keccak256("secret-b");

    address internal node1;
    address internal node2;

    function setUp() public override {
        super.setUp();
        node1 = walletOf(1);
        node2 = walletOf(2);
    }

    function _expectNotEligible(address caller) internal {
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotEligibleSetter.selector, caller));
        kms.setMasterSecretHash(HASH_A);
        assertEq(kms.masterSecretHash(), bytes32(0));
        assertFalse(kms.isEligibleSetter(caller));
    }

    // ------------------------------------------------------------------ construction and app id

    function test_Constructor_SetsImmutables() public view {
        assertEq(kms.owner(), KMS_OWNER);
        assertEq(kms.novaAppRegistry(), address(registry));
        assertEq(kms.kmsAppId(), kmsAppId);
        assertEq(kms.masterSecretHash(), bytes32(0));
        assertEq(kms.operatorCount(), 0);
    }

    function test_Constructor_RejectsZeroAddresses() public {
        vm.expectRevert(IKMSRegistry.ZeroAddress.selector);
        new KMSRegistry(address(0), address(registry));
        vm.expectRevert(IKMSRegistry.ZeroAddress.selector);
        new KMSRegistry(KMS_OWNER, address(0));
    }

    function test_SetKmsAppId_OwnerOnlyOnceNonZero() public {
        KMSRegistry fresh = new KMSRegistry(KMS_OWNER, address(registry));

        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotOwner.selector, STRANGER));
        fresh.setKmsAppId(1);

        vm.prank(KMS_OWNER);
        vm.expectRevert(IKMSRegistry.InvalidKmsAppId.selector);
        fresh.setKmsAppId(0);

        vm.expectEmit(true, false, false, true, address(fresh));
        emit IKMSRegistry.KmsAppIdSet(5);
        vm.prank(KMS_OWNER);
        fresh.setKmsAppId(5);
        assertEq(fresh.kmsAppId(), 5);

        vm.prank(KMS_OWNER);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.KmsAppIdAlreadySet.selector, 5));
        fresh.setKmsAppId(6);
    }

    // ------------------------------------------------------------------ master secret: happy paths

    function test_SetMasterSecretHash_EligibleNodeSetsAndEmits() public {
        spawnKmsNode(node1);
        assertTrue(kms.isEligibleSetter(node1));
        vm.expectEmit(true, true, false, true, address(kms));
        emit IKMSRegistry.MasterSecretHashSet(HASH_A, node1);
        vm.prank(node1);
        kms.setMasterSecretHash(HASH_A);
        assertEq(kms.masterSecretHash(), HASH_A);
    }

    function test_SetMasterSecretHash_FirstWriterWins() public {
        spawnKmsNode(node1);
        spawnKmsNode(node2);
        vm.prank(node1);
        kms.setMasterSecretHash(HASH_A);

        vm.prank(node2);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.MasterSecretHashAlreadySet.selector, HASH_A));
        kms.setMasterSecretHash(HASH_B);

        // Not even the winner may overwrite its own hash.
        vm.prank(node1);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.MasterSecretHashAlreadySet.selector, HASH_A));
        kms.setMasterSecretHash(HASH_B);
        assertEq(kms.masterSecretHash(), HASH_A);
    }

    function test_SetMasterSecretHash_RejectsZeroHash() public {
        spawnKmsNode(node1);
        vm.prank(node1);
        vm.expectRevert(IKMSRegistry.ZeroHash.selector);
        kms.setMasterSecretHash(bytes32(0));
    }

    function test_ResetMasterSecretHash_OwnerOnlyThenSetAgain() public {
        spawnKmsNode(node1);
        spawnKmsNode(node2);
        vm.prank(node1);
        kms.setMasterSecretHash(HASH_A);

        vm.prank(node1);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotOwner.selector, node1));
        kms.resetMasterSecretHash();

        vm.expectEmit(true, true, false, true, address(kms));
        emit IKMSRegistry.MasterSecretHashReset(HASH_A, KMS_OWNER);
        vm.prank(KMS_OWNER);
        kms.resetMasterSecretHash();
        assertEq(kms.masterSecretHash(), bytes32(0));

        vm.prank(node2);
        kms.setMasterSecretHash(HASH_B);
        assertEq(kms.masterSecretHash(), HASH_B);
    }

    function test_SetMasterSecretHash_DeprecatedVersionOfOtherInstanceDoesNotMatter() public {
        // Eligibility is about the caller's own version: an old deprecated version elsewhere is fine.
        uint256 v2 = registry.enrollVersion(kmsAppId, "v2", keccak256("v2"));
        uint256 id = registerNode(kmsAppId, v2, node2);
        registry.setZkVerified(id, true);
        registry.setVersionStatus(kmsAppId, kmsVersionId, uint8(INovaAppRegistry.VersionStatus.DEPRECATED));
        vm.prank(node2);
        kms.setMasterSecretHash(HASH_B);
        assertEq(kms.masterSecretHash(), HASH_B);
    }

    // ------------------------------------------------------------------ master secret: eligibility matrix

    function test_Eligibility_UnknownWallet() public {
        _expectNotEligible(STRANGER);
    }

    function test_Eligibility_OtherAppsInstance() public {
        uint256 otherApp = registry.createApp(APP_OWNER, address(0), "ipfs://other");
        uint256 otherVersion = registry.enrollVersion(otherApp, "o1", MEASUREMENT);
        uint256 id = registerNode(otherApp, otherVersion, node1);
        registry.setZkVerified(id, true);
        _expectNotEligible(node1);
    }

    function test_Eligibility_StoppedInstance() public {
        uint256 id = spawnKmsNode(node1);
        registry.setInstanceStatus(id, uint8(INovaAppRegistry.InstanceStatus.STOPPED));
        _expectNotEligible(node1);
    }

    function test_Eligibility_FailedInstance() public {
        uint256 id = spawnKmsNode(node1);
        registry.setInstanceStatus(id, uint8(INovaAppRegistry.InstanceStatus.FAILED));
        _expectNotEligible(node1);
    }

    function test_Eligibility_NotZkVerified() public {
        registerNode(kmsAppId, kmsVersionId, node1);
        _expectNotEligible(node1);
    }

    function test_Eligibility_DeprecatedVersion() public {
        spawnKmsNode(node1);
        registry.setVersionStatus(kmsAppId, kmsVersionId, uint8(INovaAppRegistry.VersionStatus.DEPRECATED));
        _expectNotEligible(node1);
    }

    function test_Eligibility_RevokedVersion() public {
        spawnKmsNode(node1);
        registry.setVersionStatus(kmsAppId, kmsVersionId, uint8(INovaAppRegistry.VersionStatus.REVOKED));
        _expectNotEligible(node1);
    }

    function test_Eligibility_InactiveApp() public {
        spawnKmsNode(node1);
        registry.setAppStatus(kmsAppId, uint8(INovaAppRegistry.AppStatus.INACTIVE));
        _expectNotEligible(node1);
    }

    function test_Eligibility_RevokedApp() public {
        spawnKmsNode(node1);
        registry.setAppStatus(kmsAppId, uint8(INovaAppRegistry.AppStatus.REVOKED));
        _expectNotEligible(node1);
    }

    function test_Eligibility_KmsAppIdNotSet() public {
        KMSRegistry fresh = new KMSRegistry(KMS_OWNER, address(registry));
        spawnKmsNode(node1);
        assertFalse(fresh.isEligibleSetter(node1));
        vm.prank(node1);
        vm.expectRevert(IKMSRegistry.KmsAppIdNotSet.selector);
        fresh.setMasterSecretHash(HASH_A);
    }

    function test_Eligibility_RegistryRevertsMeansNotEligible() public {
        spawnKmsNode(node1);
        bytes4[3] memory views = [
            INovaAppRegistry.getInstanceByWallet.selector,
            INovaAppRegistry.getVersion.selector,
            INovaAppRegistry.getApp.selector
        ];
        for (uint256 i = 0; i < views.length; ++i) {
            vm.mockCallRevert(address(registry), abi.encodePacked(views[i]), bytes("registry down"));
            _expectNotEligible(node1);
            vm.clearMockedCalls();
        }
        assertTrue(kms.isEligibleSetter(node1), "eligible again once the registry answers");
    }

    function test_Eligibility_RegistryWithoutCode() public {
        KMSRegistry detached = new KMSRegistry(KMS_OWNER, address(0xDEAD));
        vm.prank(KMS_OWNER);
        detached.setKmsAppId(kmsAppId);
        assertFalse(detached.isEligibleSetter(node1));
        vm.prank(node1);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotEligibleSetter.selector, node1));
        detached.setMasterSecretHash(HASH_A);
    }

    function test_Eligibility_RegistryAnsweringForAnotherWallet() public {
        // A registry whose answer names a different wallet than the one asked about is not trusted.
        uint256 id = spawnKmsNode(node2);
        INovaAppRegistry.Instance memory inst = registry.getInstance(id);
        vm.mockCall(
            address(registry), abi.encodeCall(INovaAppRegistry.getInstanceByWallet, (node1)), abi.encode(inst)
        );
        _expectNotEligible(node1);
    }

    // ------------------------------------------------------------------ operator callbacks

    function test_Callbacks_OnlyFromRegistry() public {
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotRegistry.selector, STRANGER));
        kms.addOperator(node1, kmsAppId, kmsVersionId, 1);

        // Not even the KMS owner or the registry's owner may edit the set directly.
        vm.prank(KMS_OWNER);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotRegistry.selector, KMS_OWNER));
        kms.addOperator(node1, kmsAppId, kmsVersionId, 1);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotRegistry.selector, address(this)));
        kms.removeOperator(node1, kmsAppId, kmsVersionId, 1);
        assertEq(kms.operatorCount(), 0);
    }

    function test_Callbacks_AppIdMismatch() public {
        vm.prank(address(registry));
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.AppIdMismatch.selector, kmsAppId, kmsAppId + 1));
        kms.addOperator(node1, kmsAppId + 1, 1, 1);
        vm.prank(address(registry));
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.AppIdMismatch.selector, kmsAppId, 0));
        kms.removeOperator(node1, 0, 1, 1);
    }

    function test_Callbacks_RejectedBeforeKmsAppIdIsSet() public {
        KMSRegistry fresh = new KMSRegistry(KMS_OWNER, address(registry));
        vm.prank(address(registry));
        vm.expectRevert(IKMSRegistry.KmsAppIdNotSet.selector);
        fresh.addOperator(node1, 1, 1, 1);
    }

    function test_Callbacks_ForeignAppPointingAtKmsCannotVerifyInstances() public {
        // An unrelated app that names the KMSRegistry as its dApp: the callback is refused and, by the
        // registry's revert policy, so is the verification, so the KMS operator set stays clean.
        uint256 foreignApp = registry.createApp(APP_OWNER, address(kms), "ipfs://foreign");
        uint256 foreignVersion = registry.enrollVersion(foreignApp, "f1", MEASUREMENT);
        uint256 id = registerNode(foreignApp, foreignVersion, node1);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.AppIdMismatch.selector, kmsAppId, foreignApp));
        registry.setZkVerified(id, true);
        assertFalse(kms.isOperator(node1));
    }

    function test_Callbacks_AddZeroWalletRejected() public {
        vm.prank(address(registry));
        vm.expectRevert(IKMSRegistry.ZeroAddress.selector);
        kms.addOperator(address(0), kmsAppId, 1, 1);
    }

    function test_Callbacks_RepeatsAreSilentNoOps() public {
        vm.startPrank(address(registry));
        kms.addOperator(node1, kmsAppId, 1, 1);
        vm.recordLogs();
        kms.addOperator(node1, kmsAppId, 1, 1);
        kms.removeOperator(node2, kmsAppId, 1, 2);
        vm.stopPrank();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 0, "no event without a state change");
        assertEq(kms.operatorCount(), 1);
        assertEq(kms.operatorAt(0), node1);
    }

    function test_Operators_FollowRegistryTransitionsWithEvents() public {
        uint256 id1 = registerNode(kmsAppId, kmsVersionId, node1);
        assertFalse(kms.isOperator(node1), "unverified instances are not operators");

        vm.expectEmit(true, true, false, true, address(kms));
        emit IKMSRegistry.OperatorAdded(node1, kmsAppId, kmsVersionId, id1);
        registry.setZkVerified(id1, true);
        assertTrue(kms.isOperator(node1));

        uint256 id2 = spawnKmsNode(node2);
        assertEq(kms.operatorCount(), 2);

        vm.expectEmit(true, true, false, true, address(kms));
        emit IKMSRegistry.OperatorRemoved(node1, kmsAppId, kmsVersionId, id1);
        registry.setInstanceStatus(id1, uint8(INovaAppRegistry.InstanceStatus.STOPPED));
        assertFalse(kms.isOperator(node1));
        assertEq(kms.operatorCount(), 1);
        assertEq(kms.operatorAt(0), node2);

        registry.setZkVerified(id2, false);
        assertEq(kms.operatorCount(), 0);
        assertEq(kms.getOperators().length, 0);
    }

    function test_Operators_AppAndVersionStatusDoNotTouchTheSet() public {
        spawnKmsNode(node1);
        registry.setVersionStatus(kmsAppId, kmsVersionId, uint8(INovaAppRegistry.VersionStatus.REVOKED));
        registry.setAppStatus(kmsAppId, uint8(INovaAppRegistry.AppStatus.INACTIVE));
        assertTrue(kms.isOperator(node1), "membership follows instance state only; nodes check the rest");
    }

    // ------------------------------------------------------------------ operator views

    function test_OperatorAt_OutOfBounds() public {
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.IndexOutOfBounds.selector, 0, 0));
        kms.operatorAt(0);
        spawnKmsNode(node1);
        assertEq(kms.operatorAt(0), node1);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.IndexOutOfBounds.selector, 1, 1));
        kms.operatorAt(1);
    }

    function test_GetOperatorsPage_Bounds() public {
        for (uint256 i = 1; i <= 5; ++i) spawnKmsNode(walletOf(i));
        address[] memory all = kms.getOperators();
        assertEq(all.length, 5);

        address[] memory page = kms.getOperatorsPage(0, 2);
        assertEq(page.length, 2);
        assertEq(page[0], all[0]);
        assertEq(page[1], all[1]);

        page = kms.getOperatorsPage(4, 10); // partial last page
        assertEq(page.length, 1);
        assertEq(page[0], all[4]);

        page = kms.getOperatorsPage(1, 4); // exactly to the end
        assertEq(page.length, 4);
        assertEq(page[3], all[4]);

        assertEq(kms.getOperatorsPage(5, 1).length, 0, "offset at the end");
        assertEq(kms.getOperatorsPage(500, 1).length, 0, "offset past the end");
        assertEq(kms.getOperatorsPage(0, 0).length, 0, "zero limit");
        assertEq(kms.getOperatorsPage(2, type(uint256).max).length, 3, "huge limit must not overflow");
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {KmsFixture} from "./helpers/KmsFixture.sol";
import {IKMSRegistry} from "../src/interfaces/IKMSRegistry.sol";
import {INovaAppRegistry} from "../src/interfaces/INovaAppRegistry.sol";

/// @notice Property tests with fuzzed inputs: each one states a rule that must hold for every input.
contract KMSRegistryFuzzTest is KmsFixture {
    uint256 internal constant POOL = 6;

    /// @dev Replays a fuzzed sequence of registry callbacks against a plain boolean model of the set.
    function testFuzz_OperatorSet_MatchesModel(uint256[] calldata ops) public {
        uint256 steps = ops.length < 48 ? ops.length : 48;
        bool[POOL] memory member;
        uint256 members;
        vm.startPrank(address(registry));
        for (uint256 i = 0; i < steps; ++i) {
            uint256 index = (ops[i] >> 1) % POOL;
            address wallet = walletOf(index);
            if (ops[i] & 1 == 0) {
                kms.addOperator(wallet, kmsAppId, kmsVersionId, index + 1);
                if (!member[index]) ++members;
                member[index] = true;
            } else {
                kms.removeOperator(wallet, kmsAppId, kmsVersionId, index + 1);
                if (member[index]) --members;
                member[index] = false;
            }
        }
        vm.stopPrank();

        assertEq(kms.operatorCount(), members, "count");
        address[] memory list = kms.getOperators();
        assertEq(list.length, members, "list length");
        for (uint256 index = 0; index < POOL; ++index) {
            assertEq(kms.isOperator(walletOf(index)), member[index], "membership");
        }
        for (uint256 i = 0; i < list.length; ++i) {
            assertTrue(kms.isOperator(list[i]), "listed wallets are members");
            assertEq(kms.operatorAt(i), list[i]);
            for (uint256 j = i + 1; j < list.length; ++j) assertTrue(list[i] != list[j], "duplicate");
        }
    }

    function testFuzz_GetOperatorsPage_ConcatenatesToList(uint8 rawCount, uint8 rawPageSize) public {
        uint256 count = boundValue(rawCount, 0, 12);
        uint256 pageSize = boundValue(rawPageSize, 1, 13);
        vm.startPrank(address(registry));
        for (uint256 i = 0; i < count; ++i) kms.addOperator(walletOf(i), kmsAppId, kmsVersionId, i + 1);
        vm.stopPrank();

        address[] memory all = kms.getOperators();
        uint256 seen;
        for (uint256 offset = 0; offset < count; offset += pageSize) {
            address[] memory page = kms.getOperatorsPage(offset, pageSize);
            uint256 expected = count - offset < pageSize ? count - offset : pageSize;
            assertEq(page.length, expected, "page length");
            for (uint256 k = 0; k < page.length; ++k) assertEq(page[k], all[seen++]);
        }
        assertEq(seen, count, "pages cover the list exactly");
        assertEq(kms.getOperatorsPage(count, pageSize).length, 0, "page after the end is empty");
    }

    /// @dev The whole eligibility rule in one line, checked over every combination of the four states.
    function testFuzz_Eligibility_Matrix(uint8 instanceStatus, bool zkVerified, uint8 versionStatus, uint8 appStatus)
        public
    {
        instanceStatus = uint8(boundValue(instanceStatus, 0, 2));
        versionStatus = uint8(boundValue(versionStatus, 0, 2));
        appStatus = uint8(boundValue(appStatus, 0, 2));
        address wallet = walletOf(7);
        uint256 id = registerNode(kmsAppId, kmsVersionId, wallet);
        registry.setZkVerified(id, zkVerified);
        registry.setInstanceStatus(id, instanceStatus);
        registry.setVersionStatus(kmsAppId, kmsVersionId, versionStatus);
        registry.setAppStatus(kmsAppId, appStatus);

        bool expected = instanceStatus == uint8(INovaAppRegistry.InstanceStatus.ACTIVE) && zkVerified
            && versionStatus == uint8(INovaAppRegistry.VersionStatus.ENROLLED)
            && appStatus == uint8(INovaAppRegistry.AppStatus.ACTIVE);
        assertEq(kms.isEligibleSetter(wallet), expected, "isEligibleSetter");

        bytes32 hash = keccak256(abi.encode(instanceStatus, zkVerified, versionStatus, appStatus));
        if (!expected) vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotEligibleSetter.selector, wallet));
        vm.prank(wallet);
        kms.setMasterSecretHash(hash);
        assertEq(kms.masterSecretHash(), expected ? hash : bytes32(0));
        // Operator membership follows the instance alone.
        assertEq(kms.isOperator(wallet), instanceStatus == 0 && zkVerified, "operator membership");
    }

    function testFuzz_SetMasterSecretHash_StrangersNeverSet(address caller, bytes32 hash) public {
        vm.assume(hash != bytes32(0));
        spawnKmsNode(walletOf(1)); // an eligible node exists, but it is not the caller
        vm.assume(caller != walletOf(1));
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotEligibleSetter.selector, caller));
        kms.setMasterSecretHash(hash);
    }

    function testFuzz_Callbacks_RejectEveryoneButTheRegistry(address caller, address wallet) public {
        vm.assume(caller != address(registry));
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotRegistry.selector, caller));
        kms.addOperator(wallet, kmsAppId, kmsVersionId, 1);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.NotRegistry.selector, caller));
        kms.removeOperator(wallet, kmsAppId, kmsVersionId, 1);
    }

    function testFuzz_Callbacks_RejectForeignAppIds(uint256 appId) public {
        vm.assume(appId != kmsAppId);
        vm.prank(address(registry));
        vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.AppIdMismatch.selector, kmsAppId, appId));
        kms.addOperator(walletOf(1), appId, 1, 1);
    }

    function testFuzz_OperatorAt_RevertsPastTheEnd(uint256 index) public {
        spawnKmsNode(walletOf(1));
        spawnKmsNode(walletOf(2));
        if (index < 2) {
            assertTrue(kms.operatorAt(index) != address(0));
        } else {
            vm.expectRevert(abi.encodeWithSelector(IKMSRegistry.IndexOutOfBounds.selector, index, 2));
            kms.operatorAt(index);
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./base/TestBase.sol";
import {KMSRegistry} from "../src/KMSRegistry.sol";
import {DirectCallbackHandler, RegistryDrivenHandler} from "./helpers/OperatorHandlers.sol";

/// @dev Shared checks on the structure of a KMSRegistry's operator set.
abstract contract OperatorSetChecks is TestBase {
    function checkStructure(KMSRegistry kms) internal view {
        address[] memory list = kms.getOperators();
        assertEq(kms.operatorCount(), list.length, "count == list length");
        for (uint256 i = 0; i < list.length; ++i) {
            assertTrue(list[i] != address(0), "no zero member");
            assertTrue(kms.isOperator(list[i]), "listed => member");
            assertEq(kms.operatorAt(i), list[i], "operatorAt agrees with the list");
            for (uint256 j = i + 1; j < list.length; ++j) assertTrue(list[i] != list[j], "no duplicates");
        }
    }
}

/// @notice Random add/remove callbacks straight from a fake registry, against a model.
contract OperatorSetDirectInvariantTest is OperatorSetChecks {
    DirectCallbackHandler internal handler;

    function setUp() public {
        handler = new DirectCallbackHandler();
        targetContract(address(handler));
    }

    function invariant_StructureIsConsistent() public view {
        checkStructure(handler.kms());
    }

    /// @dev Also proves that a removal keeps every other member: the model only drops the removed one.
    function invariant_MatchesModel() public view {
        KMSRegistry kms = handler.kms();
        assertEq(kms.operatorCount(), handler.modelCount(), "count matches the model");
        for (uint256 i = 0; i < handler.POOL_SIZE(); ++i) {
            address wallet = handler.poolWallet(i);
            assertEq(kms.isOperator(wallet), handler.modelMember(wallet), "membership matches the model");
        }
    }
}

/// @notice Random platform actions through LocalNovaAppRegistry; KMSRegistry must mirror the registry.
contract OperatorSetRegistryInvariantTest is OperatorSetChecks {
    RegistryDrivenHandler internal handler;

    function setUp() public {
        handler = new RegistryDrivenHandler();
        targetContract(address(handler));
    }

    function invariant_StructureIsConsistent() public view {
        checkStructure(handler.kms());
    }

    function invariant_OperatorsAreExactlyActiveVerifiedInstances() public view {
        KMSRegistry kms = handler.kms();
        uint256 expected;
        for (uint256 i = 0; i < handler.POOL_SIZE(); ++i) {
            address wallet = handler.poolWallet(i);
            bool should = handler.shouldBeOperator(wallet);
            if (should) ++expected;
            assertEq(kms.isOperator(wallet), should, "operator iff ACTIVE and zkVerified");
        }
        assertEq(kms.operatorCount(), expected, "no extra operators");
    }

    function invariant_ActiveInstancesListsExactlyActiveOnes() public view {
        address[] memory active = handler.registry().getActiveInstances(handler.appId());
        uint256 expected;
        for (uint256 i = 0; i < handler.POOL_SIZE(); ++i) {
            address wallet = handler.poolWallet(i);
            bool should = handler.shouldBeActive(wallet);
            if (should) ++expected;
            bool listed;
            for (uint256 k = 0; k < active.length; ++k) {
                if (active[k] == wallet) {
                    assertFalse(listed, "listed once");
                    listed = true;
                }
            }
            assertEq(listed, should, "listed iff ACTIVE");
        }
        assertEq(active.length, expected, "no extra entries");
    }
}

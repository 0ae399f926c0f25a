// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {INovaAppOperatorCallbacks} from "../../src/interfaces/INovaAppOperatorCallbacks.sol";

/// @notice A dApp that remembers every operator callback, to check that the registry calls exactly
///         on transitions. It can be told to reject callbacks, to test the revert policy.
contract RecordingDapp is INovaAppOperatorCallbacks {
    struct Call {
        bool added;
        address wallet;
        uint256 appId;
        uint256 versionId;
        uint256 instanceId;
    }

    error CallbackRejected();

    Call[] public calls;
    bool public rejecting;

    function setRejecting(bool value) external {
        rejecting = value;
    }

    function addOperator(address wallet, uint256 appId, uint256 versionId, uint256 instanceId) external {
        if (rejecting) revert CallbackRejected();
        calls.push(Call(true, wallet, appId, versionId, instanceId));
    }

    function removeOperator(address wallet, uint256 appId, uint256 versionId, uint256 instanceId) external {
        if (rejecting) revert CallbackRejected();
        calls.push(Call(false, wallet, appId, versionId, instanceId));
    }

    function callCount() external view returns (uint256) {
        return calls.length;
    }

    function lastCall() external view returns (Call memory) {
        return calls[calls.length - 1];
    }
}

/// @notice Has code but none of the callback functions: calls to it revert (no fallback).
contract CallbackLessContract {
    uint256 public unrelated;
}

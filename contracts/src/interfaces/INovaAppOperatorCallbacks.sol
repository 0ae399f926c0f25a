// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title INovaAppOperatorCallbacks
/// @notice What an app's `dappContract` implements so the Nova app registry can tell it which
///         enclave wallets currently operate the app.
/// @dev The registry is the only legitimate caller. Implementations should treat a repeated add or a
///      remove of an unknown wallet as harmless, because the caller's exact call timing is the
///      platform's choice, not the dApp's.
interface INovaAppOperatorCallbacks {
    /// @notice An instance of `appId` became a trusted operator (ACTIVE and zkVerified).
    function addOperator(address teeWallet, uint256 appId, uint256 versionId, uint256 instanceId) external;

    /// @notice An instance of `appId` stopped being a trusted operator.
    function removeOperator(address teeWallet, uint256 appId, uint256 versionId, uint256 instanceId) external;
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Vm
/// @notice The subset of Foundry's cheatcodes our tests use. forge serves them from a fixed address
///         (see TestBase.VM_ADDRESS); only the function signatures matter, they select the cheatcode.
interface Vm {
    // ----- caller control -----
    /// @notice The next call is made with msg.sender = `sender`.
    function prank(address sender) external;
    /// @notice Like prank, also setting tx.origin.
    function prank(address sender, address origin) external;
    /// @notice Every following call is made with msg.sender = `sender` until stopPrank.
    function startPrank(address sender) external;
    function stopPrank() external;

    // ----- expectations on the next call -----
    /// @notice The next call must revert (any reason).
    function expectRevert() external;
    /// @notice The next call must revert with exactly this revert data.
    function expectRevert(bytes calldata revertData) external;
    /// @notice The next call must revert with this 4-byte selector (arguments ignored).
    function expectRevert(bytes4 selector) external;
    /// @notice The next emitted event must match the one emitted right after this call, comparing the
    ///         chosen topics (1..3) and the data.
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;
    /// @notice As above, and the event must come from `emitter`.
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter)
        external;
    /// @notice Compare everything about the next event.
    function expectEmit() external;
    /// @notice The given call must happen (at least once) before the test ends.
    function expectCall(address callee, bytes calldata data) external;
    /// @notice The given call must happen exactly `count` times.
    function expectCall(address callee, bytes calldata data, uint64 count) external;

    // ----- environment -----
    function warp(uint256 timestamp) external;
    function roll(uint256 blockNumber) external;
    function deal(address account, uint256 balance) external;
    function etch(address target, bytes calldata code) external;
    function label(address account, string calldata name) external;
    /// @notice Address of the secp256k1 private key `privateKey`.
    function addr(uint256 privateKey) external pure returns (address);

    // ----- mocking -----
    function mockCall(address callee, bytes calldata data, bytes calldata returnData) external;
    function mockCallRevert(address callee, bytes calldata data, bytes calldata revertData) external;
    function clearMockedCalls() external;

    // ----- fuzzing -----
    /// @notice Discards the current fuzz input when `condition` is false.
    function assume(bool condition) external pure;

    // ----- logs -----
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

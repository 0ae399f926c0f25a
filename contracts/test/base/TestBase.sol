// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";

/// @title TestBase
/// @notice Minimal base for forge tests: the cheatcode handle, assertion helpers, a bounded-range
///         helper for fuzz inputs and the invariant-target hook.
/// @dev A failed assertion reverts with a message naming both values; forge reports any revert in a
///      test function as a failure, so no global "failed" flag is needed.
abstract contract TestBase {
    /// @dev forge answers cheatcodes at this address (the low 20 bytes of keccak256("hevm cheat code")).
    address internal constant VM_ADDRESS = 0x7109709ECfa91a80626fF3989D68f67F5b1DD12D;
    Vm internal constant vm = Vm(VM_ADDRESS);

    /// @dev forge recognises test contracts by this marker.
    bool public constant IS_TEST = true;

    address[] private _targets;

    /// @notice Restricts invariant fuzzing to the given contract (typically a handler).
    function targetContract(address target) internal {
        _targets.push(target);
    }

    /// @notice Read by forge's invariant runner: the contracts whose functions it calls at random.
    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    // ----------------------------------------------------------------- failure

    function fail(string memory reason) internal pure {
        revert(string.concat("assertion failed: ", reason));
    }

    function _fail2(string memory what, string memory left, string memory right, string memory note)
        private
        pure
    {
        string memory message = string.concat(what, ": left=", left, " right=", right);
        if (bytes(note).length != 0) message = string.concat(message, " (", note, ")");
        fail(message);
    }

    // ----------------------------------------------------------------- booleans

    function assertTrue(bool condition) internal pure {
        if (!condition) fail("expected true");
    }

    function assertTrue(bool condition, string memory note) internal pure {
        if (!condition) fail(string.concat("expected true (", note, ")"));
    }

    function assertFalse(bool condition) internal pure {
        if (condition) fail("expected false");
    }

    function assertFalse(bool condition, string memory note) internal pure {
        if (condition) fail(string.concat("expected false (", note, ")"));
    }

    function assertEq(bool left, bool right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(bool left, bool right, string memory note) internal pure {
        if (left != right) _fail2("bools differ", _str(left), _str(right), note);
    }

    // ----------------------------------------------------------------- integers

    function assertEq(uint256 left, uint256 right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(uint256 left, uint256 right, string memory note) internal pure {
        if (left != right) _fail2("uints differ", _str(left), _str(right), note);
    }

    function assertGt(uint256 left, uint256 right) internal pure {
        if (left <= right) _fail2("expected left > right", _str(left), _str(right), "");
    }

    function assertLe(uint256 left, uint256 right) internal pure {
        if (left > right) _fail2("expected left <= right", _str(left), _str(right), "");
    }

    // ----------------------------------------------------------------- addresses, words, bytes

    function assertEq(address left, address right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(address left, address right, string memory note) internal pure {
        if (left != right) _fail2("addresses differ", _str(left), _str(right), note);
    }

    function assertEq(bytes32 left, bytes32 right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(bytes32 left, bytes32 right, string memory note) internal pure {
        if (left != right) _fail2("words differ", _str(left), _str(right), note);
    }

    function assertEq(string memory left, string memory right) internal pure {
        if (keccak256(bytes(left)) != keccak256(bytes(right))) _fail2("strings differ", left, right, "");
    }

    function assertEq(bytes memory left, bytes memory right) internal pure {
        if (keccak256(left) != keccak256(right)) _fail2("bytes differ", _hex(left), _hex(right), "");
    }

    function assertEq(address[] memory left, address[] memory right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(address[] memory left, address[] memory right, string memory note) internal pure {
        if (left.length != right.length) {
            _fail2("address array lengths differ", _str(left.length), _str(right.length), note);
        }
        for (uint256 i = 0; i < left.length; ++i) {
            if (left[i] != right[i]) _fail2(string.concat("address arrays differ at ", _str(i)), _str(left[i]), _str(right[i]), note);
        }
    }

    // ----------------------------------------------------------------- fuzz helper

    /// @notice Maps any `value` into [min, max] (inclusive) without discarding inputs, so fuzz runs are
    ///         not wasted on `assume` rejections.
    function boundValue(uint256 value, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "boundValue: min > max");
        if (value >= min && value <= max) return value;
        uint256 span = max - min;
        if (span == type(uint256).max) return value;
        return min + (value % (span + 1));
    }

    // ----------------------------------------------------------------- formatting

    function _str(bool value) private pure returns (string memory) {
        return value ? "true" : "false";
    }

    function _str(uint256 value) internal pure returns (string memory) {
        if (value == 0) return "0";
        uint256 digits;
        for (uint256 rest = value; rest != 0; rest /= 10) ++digits;
        bytes memory out = new bytes(digits);
        for (; value != 0; value /= 10) out[--digits] = bytes1(uint8(48 + (value % 10)));
        return string(out);
    }

    function _str(address value) private pure returns (string memory) {
        return _hex(abi.encodePacked(value));
    }

    function _str(bytes32 value) private pure returns (string memory) {
        return _hex(abi.encodePacked(value));
    }

    function _hex(bytes memory data) private pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        bytes memory out = new bytes(2 + data.length * 2);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i = 0; i < data.length; ++i) {
            out[2 + 2 * i] = digits[uint8(data[i]) >> 4];
            out[3 + 2 * i] = digits[uint8(data[i]) & 0x0f];
        }
        return string(out);
    }
}

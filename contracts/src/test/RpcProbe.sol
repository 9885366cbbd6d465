// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Test helper: a contract that stores, logs and reverts, for the devnet's JSON-RPC conformance
/// tests (the same requests to the devnet and to anvil, and the devnet driven by cast and ethers).
/// @notice Never deployed by the studio itself.
contract RpcProbe {
    uint256 public value;

    event ValueSet(address indexed setter, uint256 indexed newValue, string note);

    error TooLarge(uint256 given, uint256 limit);

    constructor(uint256 initial) {
        value = initial;
        emit ValueSet(msg.sender, initial, "created");
    }

    /// @notice Store `newValue` (at most 1000) and log it; larger values revert with a custom error.
    function set(uint256 newValue) external {
        if (newValue > 1000) revert TooLarge(newValue, 1000);
        value = newValue;
        emit ValueSet(msg.sender, newValue, "set");
    }

    /// @notice Always reverts with Error(string).
    function fail(string calldata reason) external pure {
        revert(reason);
    }

    /// @notice The caller, as the node sees it (eth_call's default sender).
    function whoami() external view returns (address) {
        return msg.sender;
    }

    /// @notice Spends gas in proportion to `rounds` and stores the result (for gas estimates).
    function churn(uint256 rounds) external returns (bytes32 acc) {
        for (uint256 i = 0; i < rounds; i++) {
            acc = keccak256(abi.encodePacked(acc, i));
        }
        value = uint256(acc) % 1000;
    }
}

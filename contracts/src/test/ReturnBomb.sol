// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Test helper: a seller account that answers every ETH payment with 100,000 bytes of
/// return data (a "return bomb"), to check that payouts do not pay for copying it.
/// @notice Never deployed by the studio itself.
contract ReturnBomb {
    address public immutable operator;

    error NotOperator();

    constructor() {
        operator = msg.sender;
    }

    /// @notice Call `target` as this contract (to approve, list, withdraw...).
    function execute(address target, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        if (msg.sender != operator) revert NotOperator();
        (bool ok, bytes memory result) = target.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }

    /// @notice ERC-721 safe transfers to this account are accepted.
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC721Received.selector;
    }

    receive() external payable {
        assembly {
            return(0, 100000)
        }
    }
}

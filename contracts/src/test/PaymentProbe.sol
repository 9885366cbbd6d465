// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title Test helper: a contract account that accepts, rejects, or re-enters on receiving ETH,
/// and signs (ERC-1271) with its operator's key, like a smart-contract wallet.
/// @notice Used by the tests to check pull payments and the reentrancy guard; never deployed
/// by the studio itself.
contract PaymentProbe {
    enum Mode {
        Accept,
        Reject,
        Reenter
    }

    address public immutable operator;
    Mode public mode;
    address public reenterTarget;
    bytes public reenterData;
    bool public reenterSucceeded;
    bytes public reenterError;

    error NotOperator();
    error Rejected();

    constructor() {
        operator = msg.sender;
    }

    function setMode(Mode mode_, address target, bytes calldata data) external {
        if (msg.sender != operator) revert NotOperator();
        mode = mode_;
        reenterTarget = target;
        reenterData = data;
    }

    /// @notice Call `target` as this contract (to list, accept offers, withdraw...).
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

    receive() external payable {
        if (mode == Mode.Reject) revert Rejected();
        if (mode == Mode.Reenter) {
            (bool ok, bytes memory result) = reenterTarget.call(reenterData);
            reenterSucceeded = ok;
            reenterError = result;
        }
    }

    /// @notice ERC-1271: a signature is valid when the operator made it.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer,,) = ECDSA.tryRecover(hash, signature);
        return signer == operator ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }

    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC721Received.selector;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721A} from "erc721a/contracts/ERC721A.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Gas benchmark reference: plain ERC721A batch minting, no per-token data at all.
contract ERC721AReference is ERC721A, Ownable {
    constructor() ERC721A("ERC721A Reference", "AREF") Ownable(msg.sender) {}

    function mint(address to, uint256 quantity) external onlyOwner {
        _mint(to, quantity);
    }

    function _startTokenId() internal pure override returns (uint256) {
        return 1;
    }
}

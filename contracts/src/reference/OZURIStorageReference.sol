// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Gas benchmark reference: the textbook OpenZeppelin collection, one URI string per token.
contract OZURIStorageReference is ERC721URIStorage, Ownable {
    uint256 private _next = 1;

    constructor() ERC721("OZ Reference", "OZR") Ownable(msg.sender) {}

    function mint(address to, string calldata uri) external onlyOwner returns (uint256 tokenId) {
        tokenId = _next++;
        _mint(to, tokenId);
        _setTokenURI(tokenId, uri);
    }

    function mintBatch(address to, string[] calldata uris) external onlyOwner returns (uint256 firstTokenId) {
        firstTokenId = _next;
        for (uint256 i = 0; i < uris.length; ++i) {
            _mint(to, firstTokenId + i);
            _setTokenURI(firstTokenId + i, uris[i]);
        }
        _next = firstTokenId + uris.length;
    }
}

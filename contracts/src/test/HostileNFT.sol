// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title Test helper: an ERC-721 collection the studio did not create, written to misbehave.
/// @notice Each token's tokenURI answers according to its mode: the stored URI as it is (good
/// metadata, broken metadata, a javascript: link...), a revert with a reason, a bare revert,
/// undecodable bytes, a string far too long to be metadata, or a loop that burns all its gas.
/// It claims ERC721Enumerable and ERC-2981 and answers them; its name holds HTML. It also emits
/// an ERC-20 shaped Transfer event, which an ERC-721 indexer must ignore. Tests only: never
/// deployed by the studio itself.
contract HostileNFT is ERC721 {
    enum Mode {
        Uri,
        Revert,
        BareRevert,
        Garbage,
        HugeString,
        BurnGas
    }

    uint256 public constant HUGE_LENGTH = 400_000;

    mapping(uint256 tokenId => Mode) public modeOf;
    mapping(uint256 tokenId => string) private _uris;
    uint256[] private _allTokens;
    address public immutable royaltyReceiver;
    uint96 public immutable royaltyBps;

    constructor(uint96 royaltyBps_) ERC721("<b>Hostile</b> <img src=x onerror=alert(1)>", "H<i>N</i>") {
        royaltyReceiver = msg.sender;
        royaltyBps = royaltyBps_;
    }

    /// @notice Anyone may mint in this test contract: token ids count from 1.
    function mint(address to, Mode mode, string calldata uri) external returns (uint256 tokenId) {
        tokenId = _allTokens.length + 1;
        _allTokens.push(tokenId);
        modeOf[tokenId] = mode;
        _uris[tokenId] = uri;
        _mint(to, tokenId);
    }

    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        Mode mode = modeOf[tokenId];
        if (mode == Mode.Revert) revert("HostileNFT: this token's metadata is withheld");
        if (mode == Mode.BareRevert) revert();
        if (mode == Mode.Garbage) {
            assembly {
                mstore(0, 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)
                mstore(32, 0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef)
                return(0, 37)
            }
        }
        if (mode == Mode.HugeString) {
            uint256 length = HUGE_LENGTH;
            assembly {
                // ABI-encoded string of `length` zero bytes: memory past the free pointer is zero.
                let start := mload(0x40)
                mstore(start, 0x20)
                mstore(add(start, 0x20), length)
                return(start, add(0x40, length))
            }
        }
        if (mode == Mode.BurnGas) {
            uint256 spin;
            while (gasleft() > 1000) {
                spin += 1;
            }
            return string(abi.encodePacked(spin));
        }
        return _uris[tokenId];
    }

    /// @notice Emits a Transfer event shaped like an ERC-20 one (an indexer must skip it).
    function emitFungibleTransfer(address to, uint256 value) external {
        bytes32 topic = keccak256("Transfer(address,address,uint256)");
        address from = msg.sender;
        assembly {
            mstore(0, value)
            log3(0, 32, topic, from, to)
        }
    }

    // ---- ERC721Enumerable (the part readers use)
    function totalSupply() external view returns (uint256) {
        return _allTokens.length;
    }

    function tokenByIndex(uint256 index) external view returns (uint256) {
        require(index < _allTokens.length, "HostileNFT: index out of range");
        return _allTokens[index];
    }

    // ---- ERC-2981
    function royaltyInfo(uint256 tokenId, uint256 salePrice) external view returns (address, uint256) {
        if (modeOf[tokenId] == Mode.Garbage) {
            assembly {
                mstore(0, 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)
                return(0, 7)
            }
        }
        return (royaltyReceiver, salePrice * royaltyBps / 10_000);
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == 0x780e9d63 // ERC721Enumerable
            || interfaceId == 0x2a55205a // ERC-2981
            || super.supportsInterface(interfaceId);
    }
}

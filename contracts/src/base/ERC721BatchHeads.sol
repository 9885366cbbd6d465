// SPDX-License-Identifier: MIT
// Derived from ERC721A Contracts v4.3.0 (erc721a/contracts/ERC721A.sol), Creator: Chiru Labs, MIT licence.
// Ownership lookup rewritten by Provenance Studio after the batch-head bitmap of ERC721Psi
// (estarriolvetch/ERC721Psi, MIT), which scans `solidity-bits` bitmaps a 256-bit word at a time.

pragma solidity ^0.8.20;

import {IERC721A} from "erc721a/contracts/IERC721A.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @dev The receiver interface, as ERC721A declares it.
interface ERC721BatchHeads__IERC721Receiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4);
}

/**
 * @title ERC721BatchHeads: ERC721A's cheap batch mints with a bounded ownership lookup.
 *
 * ERC721A writes one ownership slot per mint and finds the owner of token `id` by scanning back,
 * slot by slot, to the last written one: a view or the first transfer of the last token of a
 * batch of n costs about 2,100·n gas (2.26M for n = 1,000). Here the lookup reads at most four
 * storage slots, whatever the batch size:
 *
 * - `_owners[id]`: the token's own owner, written by a mint of one token and by every transfer.
 * - `_batches[head]`: the record of a mint of two or more tokens `head .. head + size - 1`
 *   (owner at mint in bits 0..159, `size` in bits 160..255), written once and never changed.
 * - `_batchHeads`: a bitmap with bit `head` set for each such batch; word `w` holds ids
 *   `256·w .. 256·w + 255`, id `256·w + i` at bit `i`.
 * - `_carriedHeads[w]`: for each bitmap word that a batch enters from an earlier word, the head
 *   of that batch (so a lookup never walks over empty words, even for batches of any size).
 *
 * A token whose `_owners` entry is zero belongs to the batch whose head is the highest set bit at
 * or below it in its own word, else the carried head of that word, and follows that batch's
 * record. Transfers never touch a neighbour's slot (ERC721A initialises the next one): the first
 * transfer of a batch token writes only its own `_owners` entry.
 *
 * Kept from ERC721A: the IERC721A interface (functions, events, custom errors), packed address
 * data (balance, number minted), approvals, `transferFrom`/`safeTransferFrom` and their checks,
 * the receiver check, `_mint`'s Transfer-log loop, `_toString`, `_revert`. Left out because the
 * studio's collection does not use them: burning, spot mints, ERC-2309 mints, `_safeMint`, aux
 * and extra data, start timestamps.
 *
 * Assumption: a batch has fewer than 2**96 tokens (its Transfer logs alone would cost more gas
 * than any block holds long before that).
 */
abstract contract ERC721BatchHeads is IERC721A {
    // Mask of an entry in packed address data.
    uint256 private constant _BITMASK_ADDRESS_DATA_ENTRY = (1 << 64) - 1;
    // The bit position of `numberMinted` in packed address data.
    uint256 private constant _BITPOS_NUMBER_MINTED = 64;
    // The bit position of a batch record's size.
    uint256 private constant _BITPOS_BATCH_SIZE = 160;
    // `keccak256(bytes("Transfer(address,address,uint256)"))`.
    bytes32 private constant _TRANSFER_EVENT_SIGNATURE =
        0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef;

    // The next token ID to be minted.
    uint256 private _currentIndex;

    string private _name;
    string private _symbol;

    // Token id => its own owner (a whole slot, so that writing it needs no read-modify-write);
    // zero while the token follows its batch's record.
    mapping(uint256 tokenId => uint256 owner) private _owners;
    // Batch head => owner at mint (bits 0..159) | batch size << 160; only for mints of 2+ tokens.
    mapping(uint256 head => uint256 record) private _batches;
    // Bitmap word => bit i set when token `256 * word + i` heads a batch of 2+ tokens.
    mapping(uint256 word => uint256 bits) private _batchHeads;
    // Bitmap word => head of the batch that runs into the word from an earlier one.
    mapping(uint256 word => uint256 head) private _carriedHeads;

    // Owner => balance (bits 0..63) | number minted (bits 64..127), as in ERC721A.
    mapping(address owner => uint256 data) private _packedAddressData;
    // Token id => approved address.
    mapping(uint256 tokenId => address approved) private _tokenApprovals;
    // Owner => operator => approved.
    mapping(address owner => mapping(address operator => bool approved)) private _operatorApprovals;

    constructor(string memory name_, string memory symbol_) {
        _name = name_;
        _symbol = symbol_;
        _currentIndex = _startTokenId();
    }

    // ------------------------------------------------------------------ counting

    /// @dev The first token id. Override to change it; it must never change once tokens exist.
    function _startTokenId() internal view virtual returns (uint256) {
        return 0;
    }

    /// @dev The id the next mint starts at.
    function _nextTokenId() internal view virtual returns (uint256) {
        return _currentIndex;
    }

    /// @notice Tokens in existence (nothing is ever burned).
    function totalSupply() public view virtual override returns (uint256 result) {
        unchecked {
            result = _currentIndex - _startTokenId();
        }
    }

    /// @dev Tokens ever minted.
    function _totalMinted() internal view virtual returns (uint256) {
        unchecked {
            return _currentIndex - _startTokenId();
        }
    }

    /// @notice The number of tokens `owner` holds.
    function balanceOf(address owner) public view virtual override returns (uint256) {
        if (owner == address(0)) _revert(BalanceQueryForZeroAddress.selector);
        return _packedAddressData[owner] & _BITMASK_ADDRESS_DATA_ENTRY;
    }

    /// @dev The number of tokens minted to `owner`.
    function _numberMinted(address owner) internal view returns (uint256) {
        return (_packedAddressData[owner] >> _BITPOS_NUMBER_MINTED) & _BITMASK_ADDRESS_DATA_ENTRY;
    }

    // ------------------------------------------------------------------ ERC-165 and metadata

    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == 0x01ffc9a7 // ERC-165
            || interfaceId == 0x80ac58cd // ERC-721
            || interfaceId == 0x5b5e139f; // ERC-721 metadata
    }

    function name() public view virtual override returns (string memory) {
        return _name;
    }

    function symbol() public view virtual override returns (string memory) {
        return _symbol;
    }

    /// @dev Inheritors compute the URI; this base has none.
    function tokenURI(uint256 tokenId) public view virtual override returns (string memory);

    // ------------------------------------------------------------------ ownership

    /// @notice The owner of `tokenId`; reverts with OwnerQueryForNonexistentToken if it does not exist.
    function ownerOf(uint256 tokenId) public view virtual override returns (address) {
        return _ownerOf(tokenId);
    }

    /// @dev At most four storage reads: the token's own entry, its bitmap word, the word's carried
    /// head (only when no head sits at or below the token in its word) and the batch record.
    function _ownerOf(uint256 tokenId) internal view returns (address owner) {
        owner = address(uint160(_owners[tokenId]));
        if (owner != address(0)) return owner; // only minted tokens ever get an entry
        if (tokenId < _startTokenId()) _revert(OwnerQueryForNonexistentToken.selector);
        uint256 head = _batchHeadOf(tokenId);
        uint256 record = _batches[head];
        // The record carries the batch size: a token past the end of the last batch (not minted
        // yet) or outside any batch (no record) is refused here, without reading `_currentIndex`.
        if (tokenId - head >= record >> _BITPOS_BATCH_SIZE) _revert(OwnerQueryForNonexistentToken.selector);
        owner = address(uint160(record));
    }

    /// @dev The head (first token id) of the batch of 2+ tokens that holds `tokenId`, for a token
    /// that is not the only token of its mint. Reads one bitmap word and, when no head sits at or
    /// below `tokenId` in it, that word's carried head. For any other id the result means nothing.
    function _batchHeadOf(uint256 tokenId) internal view returns (uint256) {
        uint256 word = tokenId >> 8;
        // Bits 0 .. (tokenId & 255) of the word: heads at or below `tokenId`.
        uint256 below = _batchHeads[word] & (type(uint256).max >> (255 - (tokenId & 255)));
        // The highest of them is the nearest head (most significant bit, as ERC721Psi's
        // `scanForward` with solidity-bits; here OpenZeppelin's branchless Math.log2).
        if (below != 0) return (word << 8) | Math.log2(below);
        return _carriedHeads[word];
    }

    /// @dev Whether `tokenId` was minted (tokens are never burned).
    function _exists(uint256 tokenId) internal view virtual returns (bool) {
        return _startTokenId() <= tokenId && tokenId < _currentIndex;
    }

    // ------------------------------------------------------------------ approvals

    function approve(address to, uint256 tokenId) public payable virtual override {
        _approve(to, tokenId, true);
    }

    function getApproved(uint256 tokenId) public view virtual override returns (address) {
        if (!_exists(tokenId)) _revert(ApprovalQueryForNonexistentToken.selector);
        return _tokenApprovals[tokenId];
    }

    function setApprovalForAll(address operator, bool approved) public virtual override {
        _operatorApprovals[_msgSenderERC721A()][operator] = approved;
        emit ApprovalForAll(_msgSenderERC721A(), operator, approved);
    }

    function isApprovedForAll(address owner, address operator) public view virtual override returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @dev Approve `to` for `tokenId`; with `approvalCheck`, only the owner or an operator may.
    function _approve(address to, uint256 tokenId, bool approvalCheck) internal virtual {
        address owner = _ownerOf(tokenId);
        if (approvalCheck && _msgSenderERC721A() != owner) {
            if (!isApprovedForAll(owner, _msgSenderERC721A())) {
                _revert(ApprovalCallerNotOwnerNorApproved.selector);
            }
        }
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    // ------------------------------------------------------------------ transfers

    function transferFrom(address from, address to, uint256 tokenId) public payable virtual override {
        address owner = _ownerOf(tokenId);
        if (owner != from) _revert(TransferFromIncorrectOwner.selector);

        address approved = _tokenApprovals[tokenId];
        address sender = _msgSenderERC721A();
        if (sender != from && sender != approved) {
            if (!isApprovedForAll(from, sender)) _revert(TransferCallerNotOwnerNorApproved.selector);
        }
        if (to == address(0)) _revert(TransferToZeroAddress.selector);

        _beforeTokenTransfers(from, to, tokenId, 1);

        if (approved != address(0)) delete _tokenApprovals[tokenId];
        unchecked {
            --_packedAddressData[from]; // balance - 1; `from` owns the token, so it holds at least one
            ++_packedAddressData[to]; // balance + 1
        }
        // The token's own entry only: the other tokens of its batch keep following the record.
        _owners[tokenId] = uint256(uint160(to));

        assembly {
            log4(0, 0, _TRANSFER_EVENT_SIGNATURE, from, to, tokenId)
        }

        _afterTokenTransfers(from, to, tokenId, 1);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) public payable virtual override {
        safeTransferFrom(from, to, tokenId, "");
    }

    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory _data)
        public
        payable
        virtual
        override
    {
        transferFrom(from, to, tokenId);
        if (to.code.length != 0) {
            if (!_checkContractOnERC721Received(from, to, tokenId, _data)) {
                _revert(TransferToNonERC721ReceiverImplementer.selector);
            }
        }
    }

    /// @dev Called before tokens `startTokenId .. startTokenId + quantity - 1` move (or are minted:
    /// `from` is zero).
    function _beforeTokenTransfers(address from, address to, uint256 startTokenId, uint256 quantity)
        internal
        virtual
    {}

    /// @dev Called after tokens moved or were minted.
    function _afterTokenTransfers(address from, address to, uint256 startTokenId, uint256 quantity)
        internal
        virtual
    {}

    function _checkContractOnERC721Received(address from, address to, uint256 tokenId, bytes memory data)
        private
        returns (bool)
    {
        try ERC721BatchHeads__IERC721Receiver(to).onERC721Received(_msgSenderERC721A(), from, tokenId, data)
        returns (bytes4 retval) {
            return retval == ERC721BatchHeads__IERC721Receiver(to).onERC721Received.selector;
        } catch (bytes memory reason) {
            if (reason.length == 0) _revert(TransferToNonERC721ReceiverImplementer.selector);
            assembly {
                revert(add(32, reason), mload(reason))
            }
        }
    }

    // ------------------------------------------------------------------ minting

    /// @dev Mint tokens `_nextTokenId() .. _nextTokenId() + quantity - 1` to `to`. One token gets its
    /// own owner entry; a batch gets one record, one bit in the head bitmap, and one carried head
    /// per further bitmap word it enters (a new 256-id word every 256 tokens at most).
    function _mint(address to, uint256 quantity) internal virtual {
        uint256 startTokenId = _currentIndex;
        if (quantity == 0) _revert(MintZeroQuantity.selector);
        if (to == address(0)) _revert(MintToZeroAddress.selector);

        _beforeTokenTransfers(address(0), to, startTokenId, quantity);

        unchecked {
            uint256 end = startTokenId + quantity;
            if (quantity == 1) {
                _owners[startTokenId] = uint256(uint160(to));
            } else {
                _batches[startTokenId] = uint256(uint160(to)) | (quantity << _BITPOS_BATCH_SIZE);
                uint256 word = startTokenId >> 8;
                _batchHeads[word] |= 1 << (startTokenId & 255);
                uint256 lastWord = (end - 1) >> 8;
                while (word < lastWord) _carriedHeads[++word] = startTokenId;
            }
            // balance += quantity; numberMinted += quantity.
            _packedAddressData[to] += quantity * ((1 << _BITPOS_NUMBER_MINTED) | 1);

            uint256 toMasked = uint256(uint160(to));
            uint256 tokenId = startTokenId;
            do {
                assembly {
                    log4(0, 0, _TRANSFER_EVENT_SIGNATURE, 0, toMasked, tokenId)
                }
            } while (++tokenId != end);

            _currentIndex = end;
        }
        _afterTokenTransfers(address(0), to, startTokenId, quantity);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev The message sender (override for meta-transactions).
    function _msgSenderERC721A() internal view virtual returns (address) {
        return msg.sender;
    }

    /// @dev Revert with a custom error that has no arguments.
    function _revert(bytes4 errorSelector) internal pure {
        assembly {
            mstore(0x00, errorSelector)
            revert(0x00, 0x04)
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721BatchHeads} from "./base/ERC721BatchHeads.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title StudioCollection: an ERC-721 collection owned by one artist.
/// @notice Every token carries a content commitment: a sha2-256 digest from which `tokenURI`
/// computes an `ipfs://` CIDv1 URI on-chain. A single mint (or a redeemed voucher) commits one
/// file (raw CID of the token's metadata JSON); a batch mint commits one UnixFS directory whose
/// entries are named "0", "1", ... in mint order, so token `first + i` resolves to `ipfs://<dir>/<i>`.
/// Batches are stored once (one ownership record, a bit in the batch-head bitmap and two slots), not
/// per token, and every lookup (owner, content, URI) of any token reads a bounded number of slots
/// (see ERC721BatchHeads).
contract StudioCollection is ERC721BatchHeads, ERC2981, Ownable, EIP712 {
    /// @notice Highest royalty the collection accepts, in basis points (10%).
    uint96 public constant MAX_ROYALTY_BPS = 1000;
    /// @notice Largest batch in one transaction (bounds the gas of one mint; lookups do not depend on it).
    uint256 public constant MAX_BATCH = 1000;

    bytes32 private constant _VOUCHER_TYPEHASH = keccak256(
        "MintVoucher(bytes32 contentDigest,uint256 price,address royaltyReceiver,uint96 royaltyBps,uint256 nonce,uint256 expiry,address redeemer,uint256 epoch)"
    );
    bytes private constant _BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// @dev Content digest, keyed by the first token id of the mint that committed it.
    mapping(uint256 firstTokenId => bytes32 digest) private _contentDigest;
    /// @dev Number of tokens of a directory batch, keyed like `_contentDigest`; zero for single files.
    mapping(uint256 firstTokenId => uint256 count) private _directorySize;
    /// @dev Used or cancelled voucher nonces, 256 per word.
    mapping(uint256 word => uint256 bits) private _nonceBitmap;
    /// @dev Voucher payments that could not be sent, withdrawable by their payee.
    mapping(address payee => uint256 amount) public pendingPayments;
    /// @notice Vouchers are valid only in the epoch they were signed for; `cancelAllVouchers`
    /// starts a new one, so one transaction cancels every voucher signed before it.
    uint256 public voucherEpoch;

    /// @notice An artist's signed offer to mint one token to whoever pays `price` before `expiry`.
    struct MintVoucher {
        bytes32 contentDigest;
        uint256 price;
        address royaltyReceiver; // zero: the token follows the collection's default royalty
        uint96 royaltyBps;
        uint256 nonce;
        uint256 expiry; // unix seconds; the voucher is valid up to and including this second
        address redeemer; // zero: anyone may redeem; otherwise only this account
        uint256 epoch; // must be the collection's current `voucherEpoch`
    }

    /// @notice ERC-4906: metadata of one token changed (emitted when its content is committed).
    event MetadataUpdate(uint256 _tokenId);
    /// @notice ERC-4906: metadata of a range of tokens changed.
    event BatchMetadataUpdate(uint256 _fromTokenId, uint256 _toTokenId);
    /// @notice Tokens `firstTokenId .. firstTokenId + count - 1` were minted committed to `digest`.
    event ContentCommitted(uint256 indexed firstTokenId, uint256 count, bytes32 digest, bool directory);
    event DefaultRoyaltySet(address indexed receiver, uint96 bps);
    event TokenRoyaltySet(uint256 indexed tokenId, address indexed receiver, uint96 bps);
    event VoucherRedeemed(uint256 indexed nonce, uint256 indexed tokenId, address indexed redeemer, uint256 price);
    event VoucherCancelled(uint256 indexed nonce);
    /// @notice Every voucher of an earlier epoch is void from now on.
    event VouchersCancelled(uint256 newEpoch);
    event PaymentDeferred(address indexed payee, uint256 amount);
    event PaymentWithdrawn(address indexed payee, address indexed to, uint256 amount);

    error RoyaltyTooHigh(uint96 bps, uint96 maxBps);
    error InvalidContentDigest();
    error InvalidBatchSize(uint256 count, uint256 maxCount);
    error VoucherExpired(uint256 expiry, uint256 nowTimestamp);
    error VoucherAlreadyUsed(uint256 nonce);
    error InvalidVoucherSignature();
    error VoucherEpochEnded(uint256 epoch, uint256 currentEpoch);
    error NotVoucherRedeemer(address caller, address redeemer);
    error WrongPayment(uint256 sent, uint256 price);
    error NothingToWithdraw();
    error WithdrawFailed();

    constructor(string memory name_, string memory symbol_, address royaltyReceiver, uint96 royaltyBps)
        ERC721BatchHeads(name_, symbol_)
        Ownable(msg.sender)
        EIP712("StudioCollection", "1")
    {
        _setRoyalty(royaltyReceiver, royaltyBps);
    }

    // ------------------------------------------------------------------ minting

    /// @notice Mint one token to `to`, committed to the raw CIDv1 digest of its metadata file.
    function mint(address to, bytes32 contentDigest) external onlyOwner returns (uint256 tokenId) {
        tokenId = _mintCommitted(to, contentDigest);
    }

    /// @notice Mint `count` tokens to `to`, committed to one UnixFS directory (dag-pb CIDv1 digest)
    /// whose entries "0" .. "count-1" are the tokens' metadata files in mint order.
    function mintBatch(address to, bytes32 directoryDigest, uint256 count)
        external
        onlyOwner
        returns (uint256 firstTokenId)
    {
        if (directoryDigest == bytes32(0)) revert InvalidContentDigest();
        if (count == 0 || count > MAX_BATCH) revert InvalidBatchSize(count, MAX_BATCH);
        firstTokenId = _nextTokenId();
        _contentDigest[firstTokenId] = directoryDigest;
        _directorySize[firstTokenId] = count;
        _mint(to, count);
        emit ContentCommitted(firstTokenId, count, directoryDigest, true);
        emit BatchMetadataUpdate(firstTokenId, firstTokenId + count - 1);
    }

    /// @notice Mint the token a voucher describes to the caller, paying its price to the artist.
    /// @dev The signer must be the collection's current owner; the EIP-712 domain binds the
    /// voucher to this chain id and this contract address.
    function redeem(MintVoucher calldata voucher, bytes calldata signature) external payable returns (uint256 tokenId) {
        if (block.timestamp > voucher.expiry) revert VoucherExpired(voucher.expiry, block.timestamp);
        if (voucher.epoch != voucherEpoch) revert VoucherEpochEnded(voucher.epoch, voucherEpoch);
        if (voucher.redeemer != address(0) && voucher.redeemer != msg.sender) {
            revert NotVoucherRedeemer(msg.sender, voucher.redeemer);
        }
        if (msg.value != voucher.price) revert WrongPayment(msg.value, voucher.price);
        _useNonce(voucher.nonce);
        address artist = owner();
        if (!SignatureChecker.isValidSignatureNowCalldata(artist, voucherHash(voucher), signature)) {
            revert InvalidVoucherSignature();
        }
        tokenId = _mintCommitted(msg.sender, voucher.contentDigest);
        if (voucher.royaltyReceiver != address(0)) {
            _checkRoyalty(voucher.royaltyBps);
            _setTokenRoyalty(tokenId, voucher.royaltyReceiver, voucher.royaltyBps);
            emit TokenRoyaltySet(tokenId, voucher.royaltyReceiver, voucher.royaltyBps);
        }
        emit VoucherRedeemed(voucher.nonce, tokenId, msg.sender, msg.value);
        if (msg.value > 0) _pay(artist, msg.value);
    }

    /// @notice Make an unredeemed voucher unusable.
    function cancelVoucher(uint256 nonce) external onlyOwner {
        _useNonce(nonce);
        emit VoucherCancelled(nonce);
    }

    /// @notice Void every voucher signed so far (they name an earlier epoch from now on).
    function cancelAllVouchers() external onlyOwner {
        uint256 epoch = voucherEpoch + 1;
        voucherEpoch = epoch;
        emit VouchersCancelled(epoch);
    }

    /// @notice Whether a voucher nonce was redeemed or cancelled.
    function isNonceUsed(uint256 nonce) public view returns (bool) {
        return (_nonceBitmap[nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
    }

    /// @notice The EIP-712 digest the artist signs for `voucher`.
    function voucherHash(MintVoucher calldata voucher) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    _VOUCHER_TYPEHASH,
                    voucher.contentDigest,
                    voucher.price,
                    voucher.royaltyReceiver,
                    voucher.royaltyBps,
                    voucher.nonce,
                    voucher.expiry,
                    voucher.redeemer,
                    voucher.epoch
                )
            )
        );
    }

    /// @notice Send voucher payments that could not be delivered to the caller, to `to`.
    function withdrawPayments(address payable to) external {
        uint256 amount = pendingPayments[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        pendingPayments[msg.sender] = 0;
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert WithdrawFailed();
        emit PaymentWithdrawn(msg.sender, to, amount);
    }

    // ------------------------------------------------------------------ royalties

    /// @notice Set the royalty every token pays unless it has its own (at most 10%).
    function setDefaultRoyalty(address receiver, uint96 bps) external onlyOwner {
        _setRoyalty(receiver, bps);
    }

    /// @notice Give one token its own royalty (at most 10%).
    function setTokenRoyalty(uint256 tokenId, address receiver, uint96 bps) external onlyOwner {
        if (!_exists(tokenId)) _revert(OwnerQueryForNonexistentToken.selector);
        _checkRoyalty(bps);
        _setTokenRoyalty(tokenId, receiver, bps);
        emit TokenRoyaltySet(tokenId, receiver, bps);
    }

    /// @notice Drop a token's own royalty so that it follows the default again.
    function resetTokenRoyalty(uint256 tokenId) external onlyOwner {
        _resetTokenRoyalty(tokenId);
        emit TokenRoyaltySet(tokenId, address(0), 0);
    }

    // ------------------------------------------------------------------ content

    /// @notice The commitment of `tokenId`: the digest, whether it names a directory, and the
    /// token's entry index in that directory (0 for a single file).
    function contentOf(uint256 tokenId) public view returns (bytes32 digest, bool directory, uint256 index) {
        if (!_exists(tokenId)) _revert(URIQueryForNonexistentToken.selector);
        uint256 first = tokenId;
        digest = _contentDigest[tokenId];
        // Only the first token of a mint has a digest; any other is inside a batch of 2+ tokens,
        // whose head the batch-head bitmap gives in at most two reads.
        if (digest == bytes32(0)) {
            first = _batchHeadOf(tokenId);
            digest = _contentDigest[first];
        }
        directory = _directorySize[first] != 0;
        index = tokenId - first;
    }

    /// @notice `ipfs://<cid>` for a single file, `ipfs://<directory cid>/<index>` for a batch token.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        (bytes32 digest, bool directory, uint256 index) = contentOf(tokenId);
        string memory cid = cidOf(digest, directory);
        if (!directory) return string.concat("ipfs://", cid);
        return string.concat("ipfs://", cid, "/", Strings.toString(index));
    }

    /// @notice Multibase base32 CIDv1 of a sha2-256 digest: raw codec (0x55) for a file,
    /// dag-pb (0x70) for a directory.
    function cidOf(bytes32 digest, bool directory) public pure returns (string memory) {
        bytes memory raw = abi.encodePacked(bytes1(0x01), directory ? bytes1(0x70) : bytes1(0x55), bytes2(0x1220), digest);
        bytes memory out = new bytes(1 + (raw.length * 8 + 4) / 5);
        out[0] = "b";
        uint256 buffer;
        uint256 bits;
        uint256 j = 1;
        for (uint256 i = 0; i < raw.length; ++i) {
            buffer = (buffer << 8) | uint8(raw[i]);
            bits += 8;
            while (bits >= 5) {
                bits -= 5;
                out[j++] = _BASE32[(buffer >> bits) & 31];
            }
        }
        if (bits > 0) out[j] = _BASE32[(buffer << (5 - bits)) & 31];
        return string(out);
    }

    // ------------------------------------------------------------------ ERC-165

    function supportsInterface(bytes4 interfaceId) public view override(ERC721BatchHeads, ERC2981) returns (bool) {
        return interfaceId == 0x49064906 // ERC-4906
            || ERC721BatchHeads.supportsInterface(interfaceId) || ERC2981.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    function _startTokenId() internal pure override returns (uint256) {
        return 1;
    }

    function _mintCommitted(address to, bytes32 digest) private returns (uint256 tokenId) {
        if (digest == bytes32(0)) revert InvalidContentDigest();
        tokenId = _nextTokenId();
        _contentDigest[tokenId] = digest;
        _mint(to, 1);
        emit ContentCommitted(tokenId, 1, digest, false);
        emit MetadataUpdate(tokenId);
    }

    function _useNonce(uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = _nonceBitmap[nonce >> 8];
        if (word & bit != 0) revert VoucherAlreadyUsed(nonce);
        _nonceBitmap[nonce >> 8] = word | bit;
    }

    function _setRoyalty(address receiver, uint96 bps) private {
        _checkRoyalty(bps);
        _setDefaultRoyalty(receiver, bps);
        emit DefaultRoyaltySet(receiver, bps);
    }

    function _checkRoyalty(uint96 bps) private pure {
        if (bps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(bps, MAX_ROYALTY_BPS);
    }

    /// @dev Push with a bounded gas stipend; a payee that cannot take it can withdraw later.
    function _pay(address payee, uint256 amount) private {
        (bool ok,) = payee.call{value: amount, gas: 50_000}("");
        if (!ok) {
            pendingPayments[payee] += amount;
            emit PaymentDeferred(payee, amount);
        }
    }
}

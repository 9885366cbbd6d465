// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title StudioMarketplace: fixed-price listings and escrowed offers in ETH for any ERC-721.
/// @notice A listed token is held by the marketplace until it is bought, its listing is
/// cancelled, or its seller accepts an offer: a listing can never outlive a transfer of its
/// token, and a token cannot be sold twice. Every sale pays the ERC-2981 royalty the
/// collection reports (capped at half the price) and the marketplace fee (at most 5%). ETH that
/// cannot be pushed to a payee is kept as a balance the payee withdraws.
/// @dev Version 2 (the review of version 1): offers expire (M-1); a listing fixes the seller's
/// minimum proceeds when it is made and `acceptOffer` takes one, so a fee or royalty raised in
/// front of a sale reverts it (M-2); no payee or withdrawal can strand ETH in the contract or
/// burn it (L-2, I-10); payouts copy no return data (L-5); ownership moves in two steps; the
/// owner's approved operators can accept offers. Events are those of version 1 (plus
/// `OfferExpiry`), so one indexer reads both.
contract StudioMarketplace is Ownable2Step, ReentrancyGuardTransient {
    uint16 public constant MAX_FEE_BPS = 500;
    uint16 public constant MAX_ROYALTY_BPS = 5000;
    /// @notice The longest an offer may run (a year).
    uint256 public constant MAX_OFFER_DURATION = 365 days;
    /// @dev Gas forwarded to a payee; enough for smart-contract wallets, too little to grief.
    uint256 private constant _PAYMENT_GAS = 50_000;
    /// @dev Gas forwarded to a collection's `royaltyInfo`.
    uint256 private constant _ROYALTY_GAS = 30_000;

    /// @notice One slot per listing: seller and price (wei) packed.
    struct Listing {
        address seller;
        uint96 price;
    }

    /// @notice One slot per offer: the escrowed amount and the last second it can be accepted.
    struct Offer {
        uint192 amount;
        uint64 expiry;
    }

    mapping(address collection => mapping(uint256 tokenId => Listing)) private _listings;
    /// @dev The least the seller accepted to receive when listing (price less fee and royalty then).
    mapping(address collection => mapping(uint256 tokenId => uint256 proceeds)) private _minProceeds;
    mapping(address collection => mapping(uint256 tokenId => mapping(address buyer => Offer))) private _offers;
    /// @notice ETH owed to payees whose push payment failed.
    mapping(address payee => uint256 amount) public pendingWithdrawals;

    uint16 public feeBps;
    address public feeRecipient;

    event Listed(address indexed collection, uint256 indexed tokenId, address indexed seller, uint256 price);
    event PriceUpdated(address indexed collection, uint256 indexed tokenId, address indexed seller, uint256 price);
    event ListingCancelled(address indexed collection, uint256 indexed tokenId, address indexed seller);
    event Sold(
        address indexed collection,
        uint256 indexed tokenId,
        address indexed buyer,
        address seller,
        uint256 price,
        address royaltyReceiver,
        uint256 royalty,
        uint256 fee
    );
    event OfferMade(address indexed collection, uint256 indexed tokenId, address indexed buyer, uint256 amount);
    /// @notice Emitted with every `OfferMade`: the offer can be accepted up to and including `expiry`.
    event OfferExpiry(address indexed collection, uint256 indexed tokenId, address indexed buyer, uint256 expiry);
    event OfferWithdrawn(address indexed collection, uint256 indexed tokenId, address indexed buyer, uint256 amount);
    event OfferAccepted(
        address indexed collection,
        uint256 indexed tokenId,
        address indexed buyer,
        address seller,
        uint256 amount,
        address royaltyReceiver,
        uint256 royalty,
        uint256 fee
    );
    event PaymentDeferred(address indexed payee, uint256 amount);
    event Withdrawn(address indexed payee, address indexed to, uint256 amount);
    event FeeUpdated(uint16 feeBps, address indexed feeRecipient);

    error InvalidPrice();
    error NotListed(address collection, uint256 tokenId);
    error NotSeller(address caller, address seller);
    error WrongPayment(uint256 sent, uint256 price);
    error NoOffer(address collection, uint256 tokenId, address buyer);
    error OfferChanged(uint256 expected, uint256 actual);
    error OfferExpired(uint256 expiry, uint256 nowTimestamp);
    error InvalidExpiry(uint256 expiry, uint256 latest);
    error NotTokenOwner(address caller);
    error ProceedsTooLow(uint256 proceeds, uint256 minProceeds);
    error FeeTooHigh(uint16 bps, uint16 maxBps);
    error InvalidFeeRecipient();
    error InvalidRecipient(address to);
    error NothingToWithdraw();
    error WithdrawFailed();

    constructor() Ownable(msg.sender) {
        feeRecipient = msg.sender;
    }

    /// @notice 2 for this version (version 1 has no such function; the studio tells them apart by it).
    function marketplaceVersion() external pure returns (uint256) {
        return 2;
    }

    // ------------------------------------------------------------------ listings

    /// @notice List a token for `price` wei; the marketplace takes custody until sale or cancel.
    /// The seller's proceeds at today's fee and royalty become the least a sale may pay them.
    /// @dev Needs `approve(marketplace, tokenId)` or `setApprovalForAll(marketplace, true)` first.
    function list(address collection, uint256 tokenId, uint256 price) external nonReentrant {
        if (price == 0 || price > type(uint96).max) revert InvalidPrice();
        _listings[collection][tokenId] = Listing(msg.sender, uint96(price));
        (,,, uint256 proceeds) = quote(collection, tokenId, price);
        _minProceeds[collection][tokenId] = proceeds;
        IERC721(collection).transferFrom(msg.sender, address(this), tokenId);
        emit Listed(collection, tokenId, msg.sender, price);
    }

    /// @notice Change the price of one's own listing (its minimum proceeds are quoted again).
    function updatePrice(address collection, uint256 tokenId, uint256 price) external {
        if (price == 0 || price > type(uint96).max) revert InvalidPrice();
        Listing storage listing = _listings[collection][tokenId];
        _requireSeller(listing, collection, tokenId);
        listing.price = uint96(price);
        (,,, uint256 proceeds) = quote(collection, tokenId, price);
        _minProceeds[collection][tokenId] = proceeds;
        emit PriceUpdated(collection, tokenId, msg.sender, price);
    }

    /// @notice End one's own listing; the token goes back to the seller.
    function cancel(address collection, uint256 tokenId) external nonReentrant {
        Listing memory listing = _listings[collection][tokenId];
        _requireSeller(listing, collection, tokenId);
        _deleteListing(collection, tokenId);
        IERC721(collection).transferFrom(address(this), listing.seller, tokenId);
        emit ListingCancelled(collection, tokenId, listing.seller);
    }

    /// @notice Buy a listed token for exactly its price. Reverts when the fee or royalty rose
    /// since listing so far that the seller would get less than the proceeds they listed for.
    function buy(address collection, uint256 tokenId) external payable nonReentrant {
        Listing memory listing = _listings[collection][tokenId];
        if (listing.seller == address(0)) revert NotListed(collection, tokenId);
        if (msg.value != listing.price) revert WrongPayment(msg.value, listing.price);
        uint256 minProceeds = _minProceeds[collection][tokenId];
        _deleteListing(collection, tokenId);
        IERC721(collection).transferFrom(address(this), msg.sender, tokenId);
        (address royaltyReceiver, uint256 royalty, uint256 fee) =
            _settle(collection, tokenId, listing.seller, msg.value, minProceeds);
        emit Sold(collection, tokenId, msg.sender, listing.seller, msg.value, royaltyReceiver, royalty, fee);
    }

    /// @notice The listing of a token; seller is zero when it is not listed.
    function listingOf(address collection, uint256 tokenId) external view returns (address seller, uint256 price) {
        Listing memory listing = _listings[collection][tokenId];
        return (listing.seller, listing.price);
    }

    /// @notice The least the seller of a listed token accepted to receive from its sale.
    function minProceedsOf(address collection, uint256 tokenId) external view returns (uint256) {
        return _minProceeds[collection][tokenId];
    }

    // ------------------------------------------------------------------ offers

    /// @notice Offer ETH for a token until `expiry` (unix seconds, at most a year ahead); the ETH
    /// is held here. A second call adds to the offer and sets its expiry anew.
    function makeOffer(address collection, uint256 tokenId, uint256 expiry) external payable nonReentrant {
        if (msg.value == 0) revert InvalidPrice();
        uint256 latest = block.timestamp + MAX_OFFER_DURATION;
        if (expiry < block.timestamp || expiry > latest) revert InvalidExpiry(expiry, latest);
        Offer storage offer = _offers[collection][tokenId][msg.sender];
        uint256 amount = offer.amount + msg.value;
        if (amount > type(uint192).max) revert InvalidPrice();
        offer.amount = uint192(amount);
        offer.expiry = uint64(expiry);
        emit OfferMade(collection, tokenId, msg.sender, amount);
        emit OfferExpiry(collection, tokenId, msg.sender, expiry);
    }

    /// @notice Take back one's whole offer (expired or not).
    function withdrawOffer(address collection, uint256 tokenId) external nonReentrant {
        uint256 amount = _offers[collection][tokenId][msg.sender].amount;
        if (amount == 0) revert NoOffer(collection, tokenId, msg.sender);
        delete _offers[collection][tokenId][msg.sender];
        emit OfferWithdrawn(collection, tokenId, msg.sender, amount);
        _pay(msg.sender, amount);
    }

    /// @notice Sell a token to `buyer` for their offer, which must still be `amount` and not
    /// expired; reverts when the seller would receive less than `minProceeds`.
    /// @dev The caller is the token's owner or an operator the owner approved (with the
    /// marketplace approved too), or, for a listed token, its seller, whose listing ends. The
    /// proceeds go to the owner (the seller), never to an operator.
    function acceptOffer(address collection, uint256 tokenId, address buyer, uint256 amount, uint256 minProceeds)
        external
        nonReentrant
    {
        Offer memory offer = _offers[collection][tokenId][buyer];
        if (offer.amount == 0) revert NoOffer(collection, tokenId, buyer);
        if (offer.amount != amount) revert OfferChanged(amount, offer.amount);
        if (block.timestamp > offer.expiry) revert OfferExpired(offer.expiry, block.timestamp);
        delete _offers[collection][tokenId][buyer];
        address seller;
        Listing memory listing = _listings[collection][tokenId];
        if (listing.seller != address(0)) {
            if (listing.seller != msg.sender) revert NotSeller(msg.sender, listing.seller);
            seller = msg.sender;
            _deleteListing(collection, tokenId);
            emit ListingCancelled(collection, tokenId, seller);
            IERC721(collection).transferFrom(address(this), buyer, tokenId);
        } else {
            seller = IERC721(collection).ownerOf(tokenId);
            if (
                seller != msg.sender && !IERC721(collection).isApprovedForAll(seller, msg.sender)
                    && IERC721(collection).getApproved(tokenId) != msg.sender
            ) revert NotTokenOwner(msg.sender);
            IERC721(collection).transferFrom(seller, buyer, tokenId);
        }
        (address royaltyReceiver, uint256 royalty, uint256 fee) =
            _settle(collection, tokenId, seller, amount, minProceeds);
        emit OfferAccepted(collection, tokenId, buyer, seller, amount, royaltyReceiver, royalty, fee);
    }

    /// @notice The ETH `buyer` holds here as an offer for a token (expired offers included).
    function offerOf(address collection, uint256 tokenId, address buyer) external view returns (uint256) {
        return _offers[collection][tokenId][buyer].amount;
    }

    /// @notice An offer's escrowed amount and the last second it can be accepted.
    function offerDetails(address collection, uint256 tokenId, address buyer)
        external
        view
        returns (uint256 amount, uint256 expiry)
    {
        Offer memory offer = _offers[collection][tokenId][buyer];
        return (offer.amount, offer.expiry);
    }

    // ------------------------------------------------------------------ payments and fee

    /// @notice Send the caller's undelivered payments to `to` (not the zero address, not here).
    function withdraw(address payable to) external nonReentrant {
        if (to == address(0) || to == address(this)) revert InvalidRecipient(to);
        uint256 amount = pendingWithdrawals[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        pendingWithdrawals[msg.sender] = 0;
        if (!_send(to, amount, gasleft())) revert WithdrawFailed();
        emit Withdrawn(msg.sender, to, amount);
    }

    /// @notice Set the fee taken on every sale (at most 5%) and who receives it.
    function setFee(uint16 bps, address recipient) external onlyOwner {
        if (bps > MAX_FEE_BPS) revert FeeTooHigh(bps, MAX_FEE_BPS);
        if (recipient == address(0) || recipient == address(this)) revert InvalidFeeRecipient();
        feeBps = bps;
        feeRecipient = recipient;
        emit FeeUpdated(bps, recipient);
    }

    /// @notice How a sale at `price` splits: royalty receiver and amount, fee, seller's proceeds.
    function quote(address collection, uint256 tokenId, uint256 price)
        public
        view
        returns (address royaltyReceiver, uint256 royalty, uint256 fee, uint256 proceeds)
    {
        fee = price * feeBps / 10_000;
        (royaltyReceiver, royalty) = _royalty(collection, tokenId, price);
        proceeds = price - fee - royalty;
    }

    // ------------------------------------------------------------------ internals

    function _requireSeller(Listing memory listing, address collection, uint256 tokenId) private view {
        if (listing.seller == address(0)) revert NotListed(collection, tokenId);
        if (listing.seller != msg.sender) revert NotSeller(msg.sender, listing.seller);
    }

    function _deleteListing(address collection, uint256 tokenId) private {
        delete _listings[collection][tokenId];
        delete _minProceeds[collection][tokenId];
    }

    function _settle(address collection, uint256 tokenId, address seller, uint256 price, uint256 minProceeds)
        private
        returns (address royaltyReceiver, uint256 royalty, uint256 fee)
    {
        uint256 proceeds;
        (royaltyReceiver, royalty, fee, proceeds) = quote(collection, tokenId, price);
        if (proceeds < minProceeds) revert ProceedsTooLow(proceeds, minProceeds);
        if (fee > 0) _pay(feeRecipient, fee);
        if (royalty > 0) _pay(royaltyReceiver, royalty);
        if (proceeds > 0) _pay(seller, proceeds);
    }

    /// @dev ERC-2981 royalty, or none when the collection does not answer properly or names the
    /// zero address or this contract (whose balance nobody could withdraw) as its receiver. Only
    /// the first 64 bytes of the answer are read, so a collection cannot make a sale pay for
    /// copying a huge answer.
    function _royalty(address collection, uint256 tokenId, uint256 price)
        private
        view
        returns (address receiver, uint256 amount)
    {
        bytes memory data = abi.encodeCall(IERC2981.royaltyInfo, (tokenId, price));
        bool ok;
        uint256 size;
        uint256 rawReceiver;
        uint256 rawAmount;
        assembly ("memory-safe") {
            ok := staticcall(_ROYALTY_GAS, collection, add(data, 0x20), mload(data), 0, 0x40)
            size := returndatasize()
            rawReceiver := mload(0)
            rawAmount := mload(0x20)
        }
        if (!ok || size != 64) return (address(0), 0);
        if (rawReceiver == 0 || rawReceiver > type(uint160).max || rawAmount == 0) return (address(0), 0);
        if (address(uint160(rawReceiver)) == address(this)) return (address(0), 0);
        uint256 cap = price * MAX_ROYALTY_BPS / 10_000;
        return (address(uint160(rawReceiver)), rawAmount > cap ? cap : rawAmount);
    }

    function _pay(address payee, uint256 amount) private {
        if (!_send(payee, amount, _PAYMENT_GAS)) {
            pendingWithdrawals[payee] += amount;
            emit PaymentDeferred(payee, amount);
        }
    }

    /// @dev A plain ETH transfer that copies no return data (a payee returning megabytes costs
    /// the sender nothing more).
    function _send(address to, uint256 amount, uint256 gasLimit) private returns (bool ok) {
        assembly ("memory-safe") {
            ok := call(gasLimit, to, amount, 0, 0, 0, 0)
        }
    }
}

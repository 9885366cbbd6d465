// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title StudioMarketplaceV1 (the first deployed version, kept so the studio can still read and settle its listings and offers): fixed-price listings and escrowed offers in ETH for any ERC-721.
/// @notice A listed token is held by the marketplace until it is bought, its listing is
/// cancelled, or its seller accepts an offer: a listing can never outlive a transfer of its
/// token, and a token cannot be sold twice. Every sale pays the ERC-2981 royalty the
/// collection reports (capped at half the price) and the marketplace fee (at most 5%). ETH that
/// cannot be pushed to a payee is kept as a balance the payee withdraws.
contract StudioMarketplaceV1 is Ownable, ReentrancyGuardTransient {
    uint16 public constant MAX_FEE_BPS = 500;
    uint16 public constant MAX_ROYALTY_BPS = 5000;
    /// @dev Gas forwarded to a payee; enough for smart-contract wallets, too little to grief.
    uint256 private constant _PAYMENT_GAS = 50_000;

    /// @notice One slot per listing: seller and price (wei) packed.
    struct Listing {
        address seller;
        uint96 price;
    }

    mapping(address collection => mapping(uint256 tokenId => Listing)) private _listings;
    mapping(address collection => mapping(uint256 tokenId => mapping(address buyer => uint256 amount))) private _offers;
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
    error NotTokenOwner(address caller);
    error FeeTooHigh(uint16 bps, uint16 maxBps);
    error InvalidFeeRecipient();
    error NothingToWithdraw();
    error WithdrawFailed();

    constructor() Ownable(msg.sender) {
        feeRecipient = msg.sender;
    }

    // ------------------------------------------------------------------ listings

    /// @notice List a token for `price` wei; the marketplace takes custody until sale or cancel.
    /// @dev Needs `approve(marketplace, tokenId)` or `setApprovalForAll(marketplace, true)` first.
    function list(address collection, uint256 tokenId, uint256 price) external nonReentrant {
        if (price == 0 || price > type(uint96).max) revert InvalidPrice();
        _listings[collection][tokenId] = Listing(msg.sender, uint96(price));
        IERC721(collection).transferFrom(msg.sender, address(this), tokenId);
        emit Listed(collection, tokenId, msg.sender, price);
    }

    /// @notice Change the price of one's own listing.
    function updatePrice(address collection, uint256 tokenId, uint256 price) external {
        if (price == 0 || price > type(uint96).max) revert InvalidPrice();
        Listing storage listing = _listings[collection][tokenId];
        _requireSeller(listing, collection, tokenId);
        listing.price = uint96(price);
        emit PriceUpdated(collection, tokenId, msg.sender, price);
    }

    /// @notice End one's own listing; the token goes back to the seller.
    function cancel(address collection, uint256 tokenId) external nonReentrant {
        Listing memory listing = _listings[collection][tokenId];
        _requireSeller(listing, collection, tokenId);
        delete _listings[collection][tokenId];
        IERC721(collection).transferFrom(address(this), listing.seller, tokenId);
        emit ListingCancelled(collection, tokenId, listing.seller);
    }

    /// @notice Buy a listed token for exactly its price.
    function buy(address collection, uint256 tokenId) external payable nonReentrant {
        Listing memory listing = _listings[collection][tokenId];
        if (listing.seller == address(0)) revert NotListed(collection, tokenId);
        if (msg.value != listing.price) revert WrongPayment(msg.value, listing.price);
        delete _listings[collection][tokenId];
        IERC721(collection).transferFrom(address(this), msg.sender, tokenId);
        (address royaltyReceiver, uint256 royalty, uint256 fee) = _settle(collection, tokenId, listing.seller, msg.value);
        emit Sold(collection, tokenId, msg.sender, listing.seller, msg.value, royaltyReceiver, royalty, fee);
    }

    /// @notice The listing of a token; seller is zero when it is not listed.
    function listingOf(address collection, uint256 tokenId) external view returns (address seller, uint256 price) {
        Listing memory listing = _listings[collection][tokenId];
        return (listing.seller, listing.price);
    }

    // ------------------------------------------------------------------ offers

    /// @notice Offer ETH for a token; the ETH is held here. A second call adds to the offer.
    function makeOffer(address collection, uint256 tokenId) external payable nonReentrant {
        if (msg.value == 0) revert InvalidPrice();
        uint256 amount = _offers[collection][tokenId][msg.sender] + msg.value;
        _offers[collection][tokenId][msg.sender] = amount;
        emit OfferMade(collection, tokenId, msg.sender, amount);
    }

    /// @notice Take back one's whole offer.
    function withdrawOffer(address collection, uint256 tokenId) external nonReentrant {
        uint256 amount = _offers[collection][tokenId][msg.sender];
        if (amount == 0) revert NoOffer(collection, tokenId, msg.sender);
        delete _offers[collection][tokenId][msg.sender];
        emit OfferWithdrawn(collection, tokenId, msg.sender, amount);
        _pay(msg.sender, amount);
    }

    /// @notice Sell a token to `buyer` for their offer, which must still be `amount`.
    /// @dev The caller is the token's owner (with the marketplace approved) or, for a listed
    /// token, its seller; the listing ends.
    function acceptOffer(address collection, uint256 tokenId, address buyer, uint256 amount) external nonReentrant {
        uint256 offered = _offers[collection][tokenId][buyer];
        if (offered == 0) revert NoOffer(collection, tokenId, buyer);
        if (offered != amount) revert OfferChanged(amount, offered);
        delete _offers[collection][tokenId][buyer];
        Listing memory listing = _listings[collection][tokenId];
        if (listing.seller != address(0)) {
            if (listing.seller != msg.sender) revert NotSeller(msg.sender, listing.seller);
            delete _listings[collection][tokenId];
            emit ListingCancelled(collection, tokenId, msg.sender);
            IERC721(collection).transferFrom(address(this), buyer, tokenId);
        } else {
            if (IERC721(collection).ownerOf(tokenId) != msg.sender) revert NotTokenOwner(msg.sender);
            IERC721(collection).transferFrom(msg.sender, buyer, tokenId);
        }
        (address royaltyReceiver, uint256 royalty, uint256 fee) = _settle(collection, tokenId, msg.sender, amount);
        emit OfferAccepted(collection, tokenId, buyer, msg.sender, amount, royaltyReceiver, royalty, fee);
    }

    /// @notice The ETH `buyer` holds here as an offer for a token.
    function offerOf(address collection, uint256 tokenId, address buyer) external view returns (uint256) {
        return _offers[collection][tokenId][buyer];
    }

    // ------------------------------------------------------------------ payments and fee

    /// @notice Send the caller's undelivered payments to `to`.
    function withdraw(address payable to) external nonReentrant {
        uint256 amount = pendingWithdrawals[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        pendingWithdrawals[msg.sender] = 0;
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert WithdrawFailed();
        emit Withdrawn(msg.sender, to, amount);
    }

    /// @notice Set the fee taken on every sale (at most 5%) and who receives it.
    function setFee(uint16 bps, address recipient) external onlyOwner {
        if (bps > MAX_FEE_BPS) revert FeeTooHigh(bps, MAX_FEE_BPS);
        if (recipient == address(0)) revert InvalidFeeRecipient();
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

    function _settle(address collection, uint256 tokenId, address seller, uint256 price)
        private
        returns (address royaltyReceiver, uint256 royalty, uint256 fee)
    {
        uint256 proceeds;
        (royaltyReceiver, royalty, fee, proceeds) = quote(collection, tokenId, price);
        if (fee > 0) _pay(feeRecipient, fee);
        if (royalty > 0) _pay(royaltyReceiver, royalty);
        if (proceeds > 0) _pay(seller, proceeds);
    }

    /// @dev ERC-2981 royalty, or none when the collection does not answer properly.
    function _royalty(address collection, uint256 tokenId, uint256 price)
        private
        view
        returns (address receiver, uint256 amount)
    {
        (bool ok, bytes memory data) =
            collection.staticcall{gas: 30_000}(abi.encodeCall(IERC2981.royaltyInfo, (tokenId, price)));
        if (!ok || data.length != 64) return (address(0), 0);
        (uint256 rawReceiver, uint256 rawAmount) = abi.decode(data, (uint256, uint256));
        if (rawReceiver == 0 || rawReceiver > type(uint160).max || rawAmount == 0) return (address(0), 0);
        uint256 cap = price * MAX_ROYALTY_BPS / 10_000;
        return (address(uint160(rawReceiver)), rawAmount > cap ? cap : rawAmount);
    }

    function _pay(address payee, uint256 amount) private {
        (bool ok,) = payee.call{value: amount, gas: _PAYMENT_GAS}("");
        if (!ok) {
            pendingWithdrawals[payee] += amount;
            emit PaymentDeferred(payee, amount);
        }
    }
}

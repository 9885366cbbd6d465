#!/usr/bin/env node
// A client no one at the studio wrote: OpenSea's seaport-js (pinned in package.json) against a node.
//
//   node scripts/seaport-js.mjs fulfil ORDER.json        fill a signed order ({parameters, signature})
//   node scripts/seaport-js.mjs list SPEC.json           sign a listing: {collection, tokenId, priceWei,
//                                                        royalty: {recipient, amountWei}, endTime}
//   node scripts/seaport-js.mjs offer SPEC.json          sign a WETH offer: {weth, collection, tokenId,
//                                                        amountWei, royalty: {recipient, amountWei}, endTime}
//
// Environment: RPC_URL, PRIVATE_KEY (the account that signs or pays; a devnet test key), SEAPORT (the
// Seaport 1.6 address on that node). Prints one JSON object: the signed order, or the fill's tx hash.
// tests/chain/test_seaport_js.py drives it.
import { readFileSync } from "node:fs";
import { ethers } from "ethers";
import { ItemType, Seaport } from "@opensea/seaport-js";

const [command, file] = process.argv.slice(2);
const provider = new ethers.JsonRpcProvider(process.env.RPC_URL, undefined, { staticNetwork: true, cacheTimeout: -1 });
const wallet = new ethers.NonceManager(new ethers.Wallet(process.env.PRIVATE_KEY, provider));
const seaport = new Seaport(wallet, { overrides: { contractAddress: process.env.SEAPORT, seaportVersion: "1.6" } });
const input = JSON.parse(readFileSync(file, "utf8"));
const address = await wallet.getAddress();

async function sign(offer, consideration) {
  const { executeAllActions } = await seaport.createOrder(
    { offer, consideration, endTime: String(input.endTime), startTime: String(input.startTime) }, address);
  return executeAllActions();
}

let result;
if (command === "fulfil") {
  const { executeAllActions } = await seaport.fulfillOrder({ order: input, accountAddress: address });
  const tx = await executeAllActions();
  const receipt = await tx.wait();
  result = { txHash: tx.hash, status: receipt.status, to: receipt.to, selector: tx.data.slice(0, 10) };
} else if (command === "list") {
  const seller = BigInt(input.priceWei) - BigInt(input.royalty.amountWei);
  result = await sign(
    [{ itemType: ItemType.ERC721, token: input.collection, identifier: String(input.tokenId) }],
    [{ amount: seller.toString(), recipient: address },
     { amount: String(input.royalty.amountWei), recipient: input.royalty.recipient }]);
} else if (command === "offer") {
  result = await sign(
    [{ token: input.weth, amount: String(input.amountWei) }],
    [{ itemType: ItemType.ERC721, token: input.collection, identifier: String(input.tokenId), recipient: address },
     { token: input.weth, amount: String(input.royalty.amountWei), recipient: input.royalty.recipient }]);
} else {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
console.log(JSON.stringify(result, (key, value) => (typeof value === "bigint" ? value.toString() : value)));

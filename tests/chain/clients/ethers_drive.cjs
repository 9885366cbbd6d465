// Drive a node with ethers v6 the way a dapp or a script does, and report each case.
//
//   node ethers_drive.cjs URL ARTIFACT.json CONTRACTS_DIR
//
// Prints one JSON object {"passed": [...], "failed": [{case, error}]} and exits 1 if any case failed.
// The node needs admin methods (evm_setAutomine, evm_mine) for the replaced-transaction case.
"use strict";

const fs = require("fs");
const path = require("path");

const [url, artifactPath, contractsDir] = process.argv.slice(2);
const ethers = require(path.resolve(contractsDir, "node_modules", "ethers"));

const MNEMONIC = "test test test test test test test test test test test junk";
const RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const gwei = (n) => ethers.parseUnits(String(n), "gwei");

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function expectError(promise, code, test) {
  try {
    await promise;
  } catch (error) {
    check(error.code === code, `expected ${code}, got ${error.code}: ${error.shortMessage || error.message}`);
    if (test) test(error);
    return error;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

async function main() {
  const artifact = JSON.parse(fs.readFileSync(artifactPath, "utf8"));
  const provider = new ethers.JsonRpcProvider(url, undefined, { pollingInterval: 50, cacheTimeout: -1 });
  const keys = [0, 1, 2, 3].map((i) => ethers.HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`));
  const wallet = new ethers.NonceManager(new ethers.Wallet(keys[0].privateKey, provider));
  const results = { passed: [], failed: [] };
  let contract;

  const cases = [
    ["network", async () => {
      const network = await provider.getNetwork();
      check(network.chainId === 1337n, `chain id ${network.chainId}`);
    }],
    ["latest block fields", async () => {
      const block = await provider.getBlock("latest");
      check(block.hash && block.number >= 0 && block.baseFeePerGas > 0n && block.timestamp > 0, JSON.stringify(block));
    }],
    ["fee data", async () => {
      const fees = await provider.getFeeData();
      check(fees.maxFeePerGas > fees.maxPriorityFeePerGas && fees.gasPrice > 0n, JSON.stringify(fees, (k, v) => String(v)));
    }],
    ["deploy", async () => {
      const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet);
      contract = await factory.deploy(7);
      await contract.waitForDeployment();
      check((await provider.getCode(await contract.getAddress())).length > 2, "no code");
    }],
    ["call", async () => {
      check((await contract.value()) === 7n, "value() is not 7");
    }],
    ["estimate", async () => {
      const gas = await contract.set.estimateGas(42);
      check(gas > 21000n && gas < 100000n, `estimate ${gas}`);
    }],
    ["send and receipt with a log", async () => {
      const tx = await contract.set(42);
      const receipt = await tx.wait();
      check(receipt.status === 1 && receipt.logs.length === 1, `status ${receipt.status}`);
      const parsed = contract.interface.parseLog(receipt.logs[0]);
      check(parsed.name === "ValueSet" && parsed.args.newValue === 42n, "log not decoded");
      check((await contract.value()) === 42n, "value() is not 42");
    }],
    ["logs by filter", async () => {
      const events = await contract.queryFilter(contract.filters.ValueSet(), 0, "latest");
      check(events.length === 2 && events[1].args.note === "set", `${events.length} events`);
    }],
    ["fee history", async () => {
      const history = await provider.send("eth_feeHistory", ["0x2", "latest", [25, 75]]);
      check(history.baseFeePerGas.length === 3 && history.reward.length === 2 && history.reward[0].length === 2,
        JSON.stringify(history));
    }],
    ["custom error in a call", async () => {
      await expectError(contract.set.staticCall(5000), "CALL_EXCEPTION", (error) => {
        check(error.revert && error.revert.name === "TooLarge" && error.revert.args[0] === 5000n,
          `revert ${JSON.stringify(error.revert, (k, v) => String(v))}`);
      });
    }],
    ["revert reason in a call", async () => {
      await expectError(contract.fail.staticCall("nope"), "CALL_EXCEPTION", (error) => {
        check(error.reason === "nope", `reason ${error.reason}`);
      });
    }],
    ["estimate of a revert", async () => {
      // ethers decodes custom errors of calls, not of estimates (anvil alike): the data is there to decode
      await expectError(contract.set.estimateGas(5000), "CALL_EXCEPTION", (error) => {
        const decoded = contract.interface.parseError(error.data);
        check(decoded && decoded.name === "TooLarge", `revert data ${error.data}`);
      });
    }],
    ["mined revert", async () => {
      const tx = await contract.set(5000, { gasLimit: 100000 });
      await expectError(tx.wait(), "CALL_EXCEPTION", (error) => {
        check(error.receipt && error.receipt.status === 0, "no failed receipt");
      });
    }],
    ["nonce too low", async () => {
      const signer = new ethers.Wallet(keys[0].privateKey, provider);
      await expectError(signer.sendTransaction({ to: RECIPIENT, value: 1, nonce: 0 }), "NONCE_EXPIRED");
    }],
    ["insufficient funds", async () => {
      const poor = ethers.Wallet.createRandom().connect(provider);
      await expectError(poor.sendTransaction({ to: RECIPIENT, value: 1, gasLimit: 21000 }), "INSUFFICIENT_FUNDS");
    }],
    ["replaced transaction", async () => {
      const signer = new ethers.Wallet(keys[2].privateKey, provider);
      await provider.send("evm_setAutomine", [false]);
      try {
        const nonce = await provider.getTransactionCount(signer.address, "pending");
        const first = await signer.sendTransaction({ to: RECIPIENT, value: 1, nonce,
          maxFeePerGas: gwei(10), maxPriorityFeePerGas: gwei(1) });
        await expectError(signer.sendTransaction({ to: RECIPIENT, value: 1, nonce,
          maxFeePerGas: gwei(10) + 1n, maxPriorityFeePerGas: gwei(1) + 1n }), "REPLACEMENT_UNDERPRICED");
        const second = await signer.sendTransaction({ to: RECIPIENT, value: 1, nonce,
          maxFeePerGas: gwei(20), maxPriorityFeePerGas: gwei(2) });
        await provider.send("evm_mine", []);
        await expectError(first.wait(), "TRANSACTION_REPLACED", (error) => {
          check(error.reason === "repriced" && error.replacement.hash === second.hash, `reason ${error.reason}`);
        });
        check((await second.wait()).status === 1, "replacement not mined");
      } finally {
        await provider.send("evm_setAutomine", [true]);
      }
    }],
    ["node account sends without gas", async () => {
      const signer = await provider.getSigner(1);
      const tx = await signer.sendTransaction({ to: RECIPIENT, value: 5 });
      check((await tx.wait()).status === 1, "not mined");
    }],
    ["node account signs a message and typed data", async () => {
      const signer = await provider.getSigner(1);
      const signature = await signer.signMessage("hello devnet");
      check(ethers.verifyMessage("hello devnet", signature) === signer.address, "message signer");
      const domain = { name: "Studio", version: "1", chainId: 1337, verifyingContract: RECIPIENT };
      const types = { Note: [{ name: "text", type: "string" }, { name: "count", type: "uint256" }] };
      const value = { text: "hi", count: 3 };
      const typed = await signer.signTypedData(domain, types, value);
      check(ethers.verifyTypedData(domain, types, value, typed) === signer.address, "typed data signer");
    }],
    ["transaction by hash", async () => {
      const tx = await contract.set(8);
      await tx.wait();
      const fetched = await provider.getTransaction(tx.hash);
      check(fetched.hash === tx.hash && fetched.blockNumber !== null && fetched.data === tx.data, "transaction");
    }],
  ];

  for (const [name, run] of cases) {
    try {
      await run();
      results.passed.push(name);
    } catch (error) {
      results.failed.push({ case: name, error: String(error && (error.stack || error.message || error)) });
    }
  }
  provider.destroy();
  console.log(JSON.stringify(results));
  process.exit(results.failed.length ? 1 : 0);
}

main().catch((error) => {
  console.log(JSON.stringify({ passed: [], failed: [{ case: "setup", error: String(error.stack || error) }] }));
  process.exit(1);
});

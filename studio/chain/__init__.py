"""The chain domain: contracts, transactions and test nodes (web3/eth-account live only here).

Modules import web3 lazily, inside functions, so importing this package costs nothing.
"""

"""Content addressing and storage: Kubo-exact CIDs (cid, unixfs), CAR files, the local store and
gateway, Kubo and pinning-service backends, verified fetching and NFT metadata. See docs/storage.md."""

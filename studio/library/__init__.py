"""The library: the studio's SQLite database of works, collections, tokens and mint attempts."""

"""``python -m studio``: the command line (guarded, so a spawned helper process never re-runs it)."""
from studio.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())

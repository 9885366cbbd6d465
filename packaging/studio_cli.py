"""Entry script of the packaged ``studio`` command (PyInstaller needs a file, not a function)."""
import sys

from studio.cli.main import main

if __name__ == "__main__":
    sys.exit(main())

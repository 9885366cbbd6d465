"""Open the Provenance Studio window (``python main.py``; ``--quit-after-show`` for start-up timing)."""
import time

STARTED_AT = time.perf_counter()

import sys  # noqa: E402

from studio.ui.app import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(started_at=STARTED_AT))

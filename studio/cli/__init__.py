"""The ``studio`` command: one module per command group, assembled by :mod:`studio.cli.main`."""

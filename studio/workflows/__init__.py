"""What a user does, end to end; the GUI, the CLI and the Python API call these."""

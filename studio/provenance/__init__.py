"""Provenance: what made a work, written into the file itself and read back."""

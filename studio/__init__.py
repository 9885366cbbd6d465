"""Provenance Studio: local diffusion art with signed provenance, minted from a built-in wallet."""

__version__ = "0.1.0"

"""Reusable widgets: image grid, mask canvas, progress strip, prompt editor."""

"""Dialogs opened from the main window or a tab."""

"""Tab widgets, each observing one view-model from ``studio.ui.state``."""

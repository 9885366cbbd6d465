"""The PySide6 desktop face of the studio; Qt lives only under this package."""

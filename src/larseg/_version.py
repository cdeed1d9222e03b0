"""larseg's version (one place; ``larseg.__version__`` re-exports it)."""

__version__ = "0.1.1"

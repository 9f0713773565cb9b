"""graphrec's version, in a module of its own so that any module may read it without
importing the package's API (`graphrec/__init__.py` imports `graphrec.api`)."""

__version__ = "0.1.0"

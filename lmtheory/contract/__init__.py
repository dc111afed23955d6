"""contract layer of lmtheory (see lmtheory/__init__.py)."""

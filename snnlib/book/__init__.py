"""Book glue: what the notebooks need to turn experiments into pages.

- :mod:`~snnlib.book.results`: result files (``params``, ``provenance``, ``metrics``);
- :mod:`~snnlib.book.scales`: the ``smoke`` / ``cpu`` / ``paper`` tables;
- :mod:`~snnlib.book.tables`: DataFrames and row lists as the tables a page glues.

The top layer: it may import every other layer; nothing in :mod:`snnlib` imports it.
"""

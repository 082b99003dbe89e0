"""Book glue: what the notebooks need to turn experiments into pages.

- :mod:`~snnlib.book.results`: result files (``params``, ``provenance``, ``metrics``);
- :mod:`~snnlib.book.scales`: the ``smoke`` / ``cpu`` / ``paper`` tables;
- :mod:`~snnlib.book.tables`: DataFrames and row lists as the tables a page glues;
- :mod:`~snnlib.book.setup`: ``start``, the setup every notebook opens with (threads, device,
  result file, seeds);
- :mod:`~snnlib.book.performance`: the benchmark result files as the performance page's tables.

The top layer: it may import every other layer; nothing in :mod:`snnlib` imports it.
"""

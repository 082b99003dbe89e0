"""Book glue: what the notebooks need to turn experiments into pages.

A notebook holds narrative, parameters, calls and plots; everything else it needs is here,
one concept a module, tested like the rest of :mod:`snnlib`.

The contract with the pages and the result files:

- :mod:`~snnlib.book.results`: result files (``params``, ``provenance``, ``metrics``);
- :mod:`~snnlib.book.glue`: the one name -> glue-key rule and ``glue_all``;
- :mod:`~snnlib.book.scales`: the ``smoke`` / ``cpu`` / ``paper`` tables;
- :mod:`~snnlib.book.params`: every notebook's parameters, defaults and checks;
- :mod:`~snnlib.book.setup`: ``start``, the setup every notebook opens with (threads, device,
  result file, seeds);
- :mod:`~snnlib.book.tables`, :mod:`~snnlib.book.figures`: tables and figures a page glues;
- :mod:`~snnlib.book.reproduction`, :mod:`~snnlib.book.verdicts`: a fresh run against the
  committed reference results, and the verdicts the pages state.

One group of modules a chapter (each named after the notebooks it serves): ``substrate*``
(00), ``nmnist_*`` (01), ``sensor_*`` (02), ``own_data`` (03), ``mse_*`` (10-12),
``madarts_*`` (20-22), ``proxy_study`` (30), ``comparison`` (40), ``performance`` (50),
``paper_scale`` (51), ``spikenas_*`` (60-62).

The top layer: it may import every other layer; nothing in :mod:`snnlib` imports it.
"""

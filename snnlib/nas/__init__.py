"""The NAS core: what every search method shares, whatever its search space.

- :mod:`~snnlib.nas.proxies`: training-free scores of an untrained network (SAHD, firing rate,
  ...) and their registry ``PROXIES``;
- :mod:`~snnlib.nas.ranking`: rank statistics of a score against trained accuracy (tau, rho,
  bootstrap intervals, top-k hit rates);
- :mod:`~snnlib.nas.statistics`: is an architecture effect larger than seed noise;
- :mod:`~snnlib.nas.pareto`: the accuracy-cost front;
- :mod:`~snnlib.nas.seeding`: seeds derived from an architecture's identity;
- :mod:`~snnlib.nas.executors`: where candidates are evaluated (in process or Dask);
- :mod:`~snnlib.nas.retrain`: one ``retrain(architecture, budget, seeds) -> RetrainResult`` for
  every kind of architecture (the methods register theirs);
- :mod:`~snnlib.nas.methods`: the registry of search methods ``SEARCH_METHODS`` (the methods
  register theirs).

The core imports the substrate (:mod:`snnlib` top level, :mod:`snnlib.data`), never a method
(:mod:`snnlib.mse`, :mod:`snnlib.darts`) nor the book glue (:mod:`snnlib.book`).
"""

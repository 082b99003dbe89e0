"""The NAS core: what every search method shares, whatever its search space.

- :mod:`~snnlib.nas.proxies`: the registry ``PROXIES`` of every training-free score of an
  untrained network, read from one recording (``ProbeRun``);
- :mod:`~snnlib.nas.spike_gram`: one Gram matrix of spike patterns per layer and step (SAHD,
  NASWOT, the Hamming RDM); :mod:`~snnlib.nas.lsp`: the MSE-NAS authors' released scorer;
  :mod:`~snnlib.nas.rdm` and :mod:`~snnlib.nas.zero_cost`: RDM fitness, grad-norm, SynFlow;
- :mod:`~snnlib.nas.spaces` and :mod:`~snnlib.nas.searchers`: the search-space interface and
  the searchers that run on any space (random search, generational and regularised evolution);
- :mod:`~snnlib.nas.ranking`: rank statistics of a score against trained accuracy (tau, rho,
  bootstrap intervals, top-k hit rates);
- :mod:`~snnlib.nas.statistics`: is an architecture effect larger than seed noise;
- :mod:`~snnlib.nas.pareto`: the accuracy-cost front;
- :mod:`~snnlib.nas.seeding`: seeds derived from an architecture's identity;
- :mod:`~snnlib.nas.executors`: where candidates are evaluated (in process or Dask workers with
  a plain process's allocator, ``local_cluster``);
- :mod:`~snnlib.nas.identity`: the records, hashes and checks every checkpoint carries;
- :mod:`~snnlib.nas.retrain`: one ``retrain(architecture, budget, seeds) -> RetrainResult`` for
  every kind of architecture (the methods register theirs);
- :mod:`~snnlib.nas.bilevel_steps`: the steps of a differentiable (DARTS) search, first and
  second order, for any supernet, and DARTS' optimizers;
- :mod:`~snnlib.nas.methods`: the registry of search methods ``SEARCH_METHODS`` (the methods
  register theirs).

The core imports the substrate (:mod:`snnlib` top level, :mod:`snnlib.data`), never a method
(:mod:`snnlib.mse`, :mod:`snnlib.darts`) nor the book glue (:mod:`snnlib.book`).
"""

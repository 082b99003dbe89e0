"""A linear read-out of the raw input: the baseline a spiking network must at least reach.

If logistic regression on the very frames a network is fed classifies them better than the
network, the network (or its training) wastes information the input holds: the first thing
to check on a new data set (it showed the event pipeline underfitting real N-MNIST).

:func:`logistic_baseline` flattens every item, optionally standardises each feature with the
training items' mean and spread, and fits scikit-learn's multinomial logistic regression
(L-BFGS) for each inverse regularisation strength ``C``; the (standardise, ``C``) pair with
the best validation accuracy (first on ties) is the baseline, measured on the test items.
The strengths are fitted as a regularisation path, from the smallest ``C`` up, each fit
starting from the previous solution (``warm_start``): the same optima (the problem is
convex), several times faster than cold starts on event frames (weakly regularised fits
need thousands of L-BFGS iterations from zero).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .validation import ConfigError


@dataclass
class LinearBaseline:
    """The chosen read-out: its settings, accuracies and test predictions (item order)."""

    C: float
    standardize: bool
    val_acc: float
    test_acc: float
    test_predictions: np.ndarray
    features: int

    def to_dict(self) -> dict:
        return {
            "C": self.C,
            "standardize": self.standardize,
            "val_acc": self.val_acc,
            "test_acc": self.test_acc,
            "features": self.features,
        }


def flat_items(dataset) -> tuple[np.ndarray, np.ndarray]:
    """``[N, features]`` float64 inputs and ``[N]`` labels of a map-style dataset."""
    if len(dataset) == 0:
        raise ConfigError("flat_items: the dataset is empty")
    xs = [dataset[i][0] for i in range(len(dataset))]
    x = torch.stack([torch.as_tensor(v) for v in xs]).reshape(len(xs), -1)
    y = np.asarray([int(dataset[i][1]) for i in range(len(dataset))])
    return x.double().numpy(), y


def logistic_baseline(
    train,
    val,
    test,
    Cs: Sequence[float] = (0.001, 0.01, 0.1, 1.0),
    standardize: Sequence[bool] = (False, True),
    max_iter: int = 3000,
) -> LinearBaseline:
    """Fit on ``train``, choose on ``val``, measure on ``test`` (see the module text).

    >>> from torch.utils.data import TensorDataset
    >>> g = torch.Generator().manual_seed(0)
    >>> y = torch.arange(40) % 2
    >>> x = torch.randn(40, 1, 2, 2, generator=g) + 3 * y.view(-1, 1, 1, 1)
    >>> ds = TensorDataset(x, y)
    >>> b = logistic_baseline(ds, ds, ds, Cs=(1.0,))
    >>> b.test_acc, b.features
    (1.0, 4)
    """
    from sklearn.linear_model import LogisticRegression

    if not Cs or any(not (c > 0) for c in Cs):
        raise ConfigError(f"Cs={list(Cs)} must be positive numbers")
    xtr, ytr = flat_items(train)
    xva, yva = flat_items(val)
    xte, yte = flat_items(test)
    mean, sd = xtr.mean(0), xtr.std(0)
    sd[sd == 0] = 1.0
    best = None
    order = sorted(range(len(Cs)), key=lambda i: Cs[i])  # the path: strongest penalty first
    for scale in standardize:
        f = (lambda a: (a - mean) / sd) if scale else (lambda a: a)
        xs, xv, accs, fits = f(xtr), f(xva), {}, {}
        warm = None
        for i in order:
            clf = LogisticRegression(C=float(Cs[i]), max_iter=max_iter, warm_start=True)
            if warm is not None:  # start from the previous solution of the path
                clf.coef_, clf.intercept_ = warm.coef_.copy(), warm.intercept_.copy()
            clf.fit(xs, ytr)
            warm = fits[i] = clf
            accs[i] = float(clf.score(xv, yva))
        for i in range(len(Cs)):  # chosen in the order given (first on ties), as documented
            if best is None or accs[i] > best[0]:
                best = (accs[i], float(Cs[i]), bool(scale), fits[i], f)
    acc, c, scale, clf, f = best
    pred = clf.predict(f(xte))
    return LinearBaseline(c, scale, acc, float((pred == yte).mean()), pred, xtr.shape[1])

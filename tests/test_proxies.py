import numpy as np
import pytest
import torch

from snnlib.encoding import Encoder
from snnlib.models import SpikingCNN
from snnlib.nas.proxies import (
    mean_firing_rate,
    parameter_count,
    random_score,
    sahd_kernel,
    sahd_score,
)
from snnlib.spikes import record_spikes


def _reference_sahd_kernel(spikes):
    """Loop-by-loop numpy transcription of the SNASNet definition."""
    K, calls = None, 0
    for s in spikes.values():
        s = s.numpy()
        for t in range(s.shape[0]):
            x = (s[t] > 0).astype(float)
            B, n = x.shape
            k = np.zeros((B, B))
            for i in range(B):
                for j in range(B):
                    h = np.sum(x[i] != x[j])
                    ri, rj = x[i].mean(), x[j].mean()
                    e = n * (ri * (1 - rj) + (1 - ri) * rj)
                    k[i, j] = n - 0.5 / (e + 1e-3) * h
            K = k if K is None else K + k
            calls += 1
    return K / calls


def test_sahd_kernel_matches_loop_definition():
    g = torch.Generator().manual_seed(0)
    spikes = {
        "a": (torch.rand(3, 5, 12, generator=g) < 0.3).float(),
        "b": (torch.rand(3, 5, 7, generator=g) < 0.6).float(),
    }
    np.testing.assert_allclose(
        sahd_kernel(spikes).numpy(), _reference_sahd_kernel(spikes), rtol=1e-10
    )


def test_sahd_prefers_distinguishable_patterns():
    g = torch.Generator().manual_seed(1)
    distinct = {"a": (torch.rand(2, 8, 64, generator=g) < 0.5).float()}
    same = {"a": distinct["a"][:, :1].expand(2, 8, 64).clone()}
    ld_distinct = torch.linalg.slogdet(sahd_kernel(distinct))[1]
    ld_same = torch.linalg.slogdet(sahd_kernel(same))[1]
    assert ld_distinct > ld_same + 10


def test_scores_on_an_untrained_network_are_deterministic():
    torch.manual_seed(0)
    model = SpikingCNN(1, 10, width=4)
    x = Encoder("direct", 2)(torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(0)))
    spikes = record_spikes(model, x)
    assert list(spikes) == [
        "features.0.lif",
        "features.1.lif",
        "features.2.lif",
        "features.3.lif",
        "head.lif",
    ]
    assert spikes["features.0.lif"].shape == (2, 6, 4 * 8 * 8)
    s1, s2 = sahd_score(model, [x]), sahd_score(model, [x])
    assert s1 == s2 and np.isfinite(s1)
    rate = mean_firing_rate(model, x)
    assert 0 < rate < 1
    assert parameter_count(model) == sum(p.numel() for p in model.parameters())
    assert random_score("abc") == random_score("abc") != random_score("abd")
    assert 0 <= random_score("abc", seed=3) < 1
    assert model.training  # record_spikes restores the mode
    bn = model.features[0].body.module[1]
    assert torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))  # stats untouched
    assert bn.momentum == 0.1


def test_proxy_registry_scores_like_the_functions_and_lists_names_on_error():
    from snnlib.nas.proxies import PROXIES, get_proxy, register_proxy
    from snnlib.validation import ConfigError

    baselines = ["firing_rate", "grad_norm", "naswot", "params", "random", "sahd", "synflow"]
    assert set(baselines) <= set(PROXIES)
    assert sum(n.startswith("rdm ") for n in PROXIES) == 9
    assert sum(n.startswith("lsp_") for n in PROXIES) == 12  # six scalars, two variants
    torch.manual_seed(0)
    model = SpikingCNN(1, 10, width=4)
    g = torch.Generator().manual_seed(0)
    x1, x2 = (Encoder("direct", 2)(torch.randn(6, 1, 8, 8, generator=g)) for _ in range(2))
    assert get_proxy("sahd")(model, [x1, x2]) == sahd_score(model, [x1, x2])
    assert get_proxy("firing_rate")(model, [x1]) == mean_firing_rate(model, x1)
    both = get_proxy("firing_rate")(model, [x1, x2])
    assert both == (mean_firing_rate(model, x1) + mean_firing_rate(model, x2)) / 2
    assert get_proxy("params")(model, [x1]) == parameter_count(model)
    assert get_proxy("random")(model, [x1], key="abc", seed=3) == random_score("abc", 3)
    with pytest.raises(ConfigError, match=r"proxy='snip'.*\['firing_rate', 'grad_norm'"):
        get_proxy("snip")
    register_proxy("minus_params", lambda run: -parameter_count(run.model), ("model",))
    try:
        assert get_proxy("minus_params")(model, []) == -parameter_count(model)
        with pytest.raises(ConfigError, match="already registered"):
            register_proxy("minus_params", lambda *a, **k: 0.0)
    finally:
        del PROXIES["minus_params"]
    with pytest.raises(ConfigError, match="callable"):
        register_proxy("bad", 3)
    with pytest.raises(ConfigError, match=r"needs \['weights'\] are unknown"):
        register_proxy("bad", lambda run: 0.0, ("weights",))

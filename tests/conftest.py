import pytest
import torch

# The tests use tiny tensors: a second intra-op thread gains nothing, and on a busy 2-core
# machine OpenMP's spinning threads make them several times slower. One thread for all.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_results(tmp_path, monkeypatch):
    """Tests never write into the repository's data/results or checkpoints."""
    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("SNNLIB_CHECKPOINTS", str(tmp_path / "checkpoints"))


@pytest.fixture
def clean_data_registry():
    """The data-set registry as it was before the test: names a test registers are dropped
    (used by the data-registry and user-data tests through ``pytestmark``)."""
    from snnlib.data.registry import _REGISTRY

    before = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(before)

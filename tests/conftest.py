import os

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _isolated_results(tmp_path, monkeypatch):
    """Tests never write into the repository's data/results or checkpoints."""
    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("SNNLIB_CHECKPOINTS", str(tmp_path / "checkpoints"))

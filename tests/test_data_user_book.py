"""The helpers of the "Your own data" page (snnlib.book.own_data) and the path it shows: a
saved user data set is read back from its file by name, and a run records its checksum."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import snnlib.data as data
from snnlib.book.own_data import data_read, storage_sizes
from snnlib.data.registry import saved_path
from snnlib.provenance import reads, reset
from snnlib.validation import ConfigError

pytestmark = pytest.mark.usefixtures("clean_data_registry")


def test_data_read_finds_the_named_entry_or_names_what_was_read():
    result = {
        "provenance": {
            "data_read": [
                {"name": "digits", "sha256": "aa"},
                {"name": "mine", "split": "test", "sha256": "bb"},
            ]
        }
    }
    assert data_read(result, "mine") == {"name": "mine", "split": "test", "sha256": "bb"}
    with pytest.raises(ConfigError, match=r"no data set 'other'.*\['digits', 'mine'\]"):
        data_read(result, "other")
    with pytest.raises(ConfigError, match=r"no data set 'mine'; it read \[\]"):
        data_read({"provenance": {}}, "mine")


def test_a_saved_set_is_read_by_name_and_its_checksum_is_recorded(tmp_path):
    x = torch.from_numpy(np.arange(60 * 64, dtype=np.float32).reshape(60, 1, 8, 8) % 17)
    y = torch.arange(60) % 3
    source = data.from_tensors(x, y, name="own", save=True, root=tmp_path)
    path = saved_path("own", tmp_path)
    sizes = storage_sizes(path, source.x)
    assert sizes["float32_bytes"] == 60 * 64 * 4 and sizes["file_bytes"] == path.stat().st_size
    assert sizes["compression"] > 4  # integers 0..16 stored as bytes, compressed
    data.unregister_dataset("own")
    reset()
    ds = data.load_dataset("own", "train", root=tmp_path)
    entry = data_read({"provenance": {"data_read": reads()["data"]}}, "own")
    assert entry["sha256"] == source.sha256() == ds.source_sha256
    assert entry["source"] == "user tensors 'own'" and entry["items"] == len(ds) == 48
    reset()

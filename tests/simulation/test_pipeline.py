"""Samples: reproducible bit for bit, whatever the workers, shards or interruptions."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from cli_helpers import kill_after

from larseg.config import from_yaml, load_preset
from larseg.data.larcv3 import Larcv3File
from larseg.data.products import planes_from_event
from larseg.simulation import SimulationConfig, merge_files, simulate_entry, simulate_file

SAMPLE = "1e1p-le"  # small events: fast


@pytest.fixture(scope="module")
def config():
    return load_preset("simulation", SAMPLE)


def _tables(path):
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[:].tobytes()) if isinstance(o, h5py.Dataset) else None)
    return out


@pytest.fixture(scope="module")
def reference(config, tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "ref.h5"
    simulate_file(config, 4, path, seed=11)
    return path


def test_same_seed_same_bytes(config, reference, tmp_path):
    again = tmp_path / "again.h5"
    simulate_file(config, 4, again, seed=11)
    assert _tables(again) == _tables(reference)
    other = tmp_path / "other.h5"
    simulate_file(config, 4, other, seed=12)
    assert _tables(other)["Data/sparse2d_wire_group/voxels"] != _tables(reference)["Data/sparse2d_wire_group/voxels"]


def test_workers_do_not_change_the_result(config, reference, tmp_path):
    path = tmp_path / "par.h5"
    simulate_file(config, 4, path, seed=11, workers=2)
    assert _tables(path) == _tables(reference)


def test_shards_concatenate_into_the_single_run(config, reference, tmp_path):
    parts = []
    for i in range(3):
        p = tmp_path / f"part{i}.h5"
        simulate_file(config, 4, p, seed=11, shard=(i, 3))
        parts.append(p)
    assert [Larcv3File(p).n_entries for p in parts] == [1, 1, 2]
    merged = tmp_path / "merged.h5"
    assert merge_files(parts, merged) == 4
    assert _tables(merged) == _tables(reference)
    assert Larcv3File(merged).metadata["larseg_config"] == Larcv3File(reference).metadata["larseg_config"]


def test_interrupted_run_resumes_to_the_same_file(config, reference, tmp_path):
    path = tmp_path / "resumed.h5"

    killer = kill_after(2)
    with pytest.raises(KeyboardInterrupt):
        simulate_file(config, 4, path, seed=11, progress_factory=killer)
    assert not path.exists()
    assert (tmp_path / "resumed.h5.partial").exists()
    result = simulate_file(config, 4, path, seed=11, resume=True)
    assert result.n_entries == 4
    assert _tables(path) == _tables(reference)


def test_file_records_config_and_ids(config, reference):
    f = Larcv3File(reference)
    meta = f.metadata
    assert from_yaml(SimulationConfig, meta["larseg_config"]) == config
    assert meta["larseg_sample"] == SAMPLE and meta["seed"] == "11"
    assert meta["larseg_version"] and meta["git_commit"]
    assert [f.event_id(i) for i in range(4)] == [(11, 0, i) for i in range(4)]


def test_entry_regenerates_from_seed_and_index(config, reference):
    entry = simulate_entry(config, 11, 2)
    stored = planes_from_event(Larcv3File(reference).read(2))
    for a, b in zip(entry.planes, stored):
        np.testing.assert_array_equal(a.image, b.image)
        np.testing.assert_array_equal(a.label, b.label)


def test_labels_cover_exactly_the_nonzero_pixels(reference):
    f = Larcv3File(reference)
    for i in range(f.n_entries):
        for plane in planes_from_event(f.read(i)):
            nonzero = plane.image != 0
            assert plane.image.shape == (512, 512)
            assert np.all(np.isin(plane.label[nonzero], (1, 2)))
            assert np.all(plane.instance[nonzero] >= 0)
            assert np.all(plane.label[~nonzero] == 0) and np.all(plane.instance[~nonzero] == -1)
            assert np.all(plane.image[nonzero] >= 10.0)


def test_merged_shards_are_the_unsharded_file_bit_for_bit(tmp_path):
    cfg = load_preset("simulation", "1e1p-le")
    simulate_file(cfg, 4, tmp_path / "full.h5", seed=11)
    for k in range(2):
        simulate_file(cfg, 4, tmp_path / f"s{k}.h5", seed=11, shard=(k, 2))
    merge_files([tmp_path / "s0.h5", tmp_path / "s1.h5"], tmp_path / "merged.h5")
    assert (tmp_path / "merged.h5").read_bytes() == (tmp_path / "full.h5").read_bytes()

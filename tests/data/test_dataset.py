"""larseg products round trip and the PyTorch dataset over them."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from larseg.data.dataset import PlaneDataset
from larseg.data.larcv3 import ImageMeta, Larcv3File, Larcv3Writer
from larseg.data.products import EntryTruth, PlaneImage, planes_from_event, to_event
from larseg.physics.truth import PARTICLE_DTYPE


def _entry(k: int, rng) -> EntryTruth:
    planes = []
    for pid in range(3):
        rows, wires = 16, 24 + 4 * pid
        image = np.where(rng.random((rows, wires)) < 0.15, rng.uniform(5, 120, (rows, wires)), 0).astype(np.float32)
        label = np.where(image > 0, rng.integers(1, 3, image.shape), 0).astype(np.uint8)
        inst = np.where(image > 0, rng.integers(0, 3, image.shape), -1).astype(np.int32)
        planes.append(PlaneImage(ImageMeta.for_dense(pid, rows, wires, (0.3, 0.333), (3.0 * k, 0.0)),
                                 image, label, inst, vertex=(3.0, 7.0 + pid)))
    particles = np.zeros(3, dtype=PARTICLE_DTYPE)
    particles["track_id"] = np.arange(3)
    particles["parent_id"] = [-1, -1, 0]
    particles["ancestor_id"] = [0, 1, 0]
    particles["pdg"] = [11, 2212, 22]
    particles["process"] = [b"primary", b"primary", b"eBrem"]
    particles["energy_init"] = [100.5, 1000.0, 5.0]
    return EntryTruth(planes, particles, ids=(7, 0, k))


def _write(path, n=6):
    rng = np.random.default_rng(0)
    entries = [_entry(k, rng) for k in range(n)]
    with Larcv3Writer(path) as w:
        for e in entries:
            w.write(to_event(e))
    return entries


def test_products_round_trip(tmp_path):
    path = tmp_path / "s.h5"
    entries = _write(path)
    f = Larcv3File(path)
    for k, want in enumerate(entries):
        ev = f.read(k)
        assert (ev.run, ev.subrun, ev.event) == (7, 0, k)
        got = planes_from_event(ev)
        for g, w in zip(got, want.planes):
            np.testing.assert_array_equal(g.image, w.image)
            np.testing.assert_array_equal(g.label, w.label)
            np.testing.assert_array_equal(g.instance, w.instance)
            assert g.vertex == w.vertex
            assert g.meta == w.meta
        parts = ev.particle["truth"]
        assert parts["pdg"].tolist() == [11, 2212, 22]
        assert parts["parent_trackid"].tolist() == [0xFFFFFFFF, 0xFFFFFFFF, 0]
        assert parts["ancestor_pdg"].tolist() == [11, 2212, 11]
        assert parts["shape"].tolist() == [0, 1, 0]


def test_dataset_threshold_and_workers(tmp_path):
    path = tmp_path / "s.h5"
    entries = _write(path)
    ds = PlaneDataset([path, path], plane=1, threshold=10.0)
    assert len(ds) == 12
    item = ds[7]
    want = entries[1].planes[1]
    img = want.image.copy()
    img[img < 10] = 0
    np.testing.assert_array_equal(item["image"][0].numpy(), img)
    assert torch.all(item["label"][item["image"][0] == 0] == 0)
    assert torch.all(item["instance"][item["image"][0] == 0] == -1)
    np.testing.assert_array_equal(item["vertex"].numpy(), [3.0, 8.0])
    loader = DataLoader(ds, batch_size=4, num_workers=2, shuffle=False)
    seen = torch.cat([b["index"] for b in loader])
    assert seen.tolist() == list(range(12))

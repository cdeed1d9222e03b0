"""larseg.data.sources: truth labels of every input format, planes, the dataset over them, the layer order."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from format_helpers import write_larcv_root, write_npy, write_npz

from larseg.data.arrays import ArrayFile
from larseg.data.dataset import PlaneDataset
from larseg.data.sources import Entry, open_input
from larseg.errors import DataFileError


def test_open_input_moved_to_the_data_layer():
    import larseg.infer

    assert larseg.infer.open_input is open_input


def test_data_layer_imports_nothing_above_it():
    code = ("import sys, larseg.data.sources, larseg.data.dataset; "
            "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('larseg.') and m.count('.') >= 1}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    layers = eval(out.stdout)
    assert not {"infer", "eval", "train", "model", "simulation", "cli"} & set(layers), layers


@pytest.mark.parametrize("layout", [1, 2])
def test_root_images_and_segment_labels(tmp_path, layout):
    pytest.importorskip("uproot")
    path, events = write_larcv_root(tmp_path / "ev.root", layout)
    src = open_input(path)
    # the image tree is 'data', not the label tree, although there are two trees and no 'wire'
    assert src.format == f"LArCV{layout}" and src.producer == "data" and src.n_entries == 3
    assert src.has_labels and src.label_source == "image2d_segment_tree"
    assert src.products["image2d"] == ["data", "segment"] and src.metadata == {}
    for k, (images, labels) in enumerate(events):
        planes = src.planes(k)
        assert [p.meta.projection_id for p in planes] == [0, 1, 2]
        for p, image, label in zip(planes, images, labels):
            np.testing.assert_array_equal(p.image, image)
            np.testing.assert_array_equal(p.label, label)
            assert p.label.dtype == np.uint8 and (p.instance == -1).all() and p.vertex is None
    (only,) = src.planes(1, projection=2)
    np.testing.assert_array_equal(only.label, events[1][1][2])
    ev = src.read(2)
    assert isinstance(ev, Entry) and (ev.run, ev.subrun, ev.event) == (7, 1, 102) and ev.has_labels
    assert ev.particle == {}


def test_root_without_labels(shared, tmp_path):
    pytest.importorskip("uproot")
    src = open_input(shared / "fixtures" / "larcv2" / "electron.root")
    assert not src.has_labels and src.label_source is None
    assert src.products == {"image2d": ["data"], "particle": []} and src.unread == ["particle_mctruth_tree"]
    planes = src.planes(0)
    assert len(planes) == 3 and all((p.label == 0).all() for p in planes)
    with pytest.raises(DataFileError) as err:
        src.require_labels()
    assert str(err.value) == (f"{src.path}: no truth labels: this LArCV2 ROOT file has no image2d_segment_tree "
                              "(has: image2d_data_tree, particle_mctruth_tree)")
    path, _ = write_larcv_root(tmp_path / "v1.root", 1, labels=False)
    with pytest.raises(DataFileError, match=r"v1.root: no truth labels: this LArCV1 ROOT file"):
        open_input(path).require_labels()


def test_root_labels_must_be_label_codes_of_the_same_images(tmp_path):
    pytest.importorskip("uproot")
    from format_helpers import event_planes, write_image2d_trees

    images, labels = event_planes(0)
    path = write_image2d_trees(tmp_path / "values.root", 2, {"wire": [images], "segment": [images]})
    src = open_input(path)
    assert src.producer == "wire" and src.has_labels
    with pytest.raises(DataFileError, match=r"values.root: entry 0 plane 0: truth labels must be 0 \(background\)"):
        src.planes(0)
    small = [lab[:10].astype(np.float32) for lab in labels]
    path = write_image2d_trees(tmp_path / "sizes.root", 1, {"wire": [images], "segment": [small]})
    with pytest.raises(DataFileError, match=r"entry 0 plane 0: the label image is 10 x 48, the image 40 x 48"):
        open_input(path).planes(0)
    # a lone label tree is read as the images, without labels
    path = write_image2d_trees(tmp_path / "lone.root", 2, {"segment": [images]})
    src = open_input(path)
    assert src.producer == "segment" and not src.has_labels


def test_npz_labels(tmp_path):
    path, events = write_npz(tmp_path / "ev.npz")
    src = open_input(path)
    assert src.format == "numpy" and src.has_labels and src.label_source == "label0, label1, label2"
    assert src.event_id(2) == (3, 0, 52)
    for k, (images, labels) in enumerate(events):
        for p, image, label in zip(src.planes(k), images, labels):
            np.testing.assert_array_equal(p.image, image)
            np.testing.assert_array_equal(p.label, label)
    # 'images' + 'labels' with the .npy shapes
    stack = np.stack([np.stack(e[0]) for e in events])
    labs = np.stack([np.stack(e[1]) for e in events]).astype(np.float32)
    np.savez(tmp_path / "img.npz", images=stack, labels=labs)
    src = open_input(tmp_path / "img.npz")
    assert src.label_source == "labels"
    np.testing.assert_array_equal(src.planes(1)[2].label, events[1][1][2])


@pytest.mark.parametrize("arrays, problem", [
    ({"plane0": np.zeros((2, 4, 4)), "plane1": np.zeros((2, 4, 4)), "label0": np.zeros((2, 4, 4))},
     "has label0 but planes need label0, label1"),
    ({"plane0": np.zeros((2, 4, 4)), "label0": np.zeros((2, 4, 5))}, "array 'label0' (plane 0) has shape (2, 4, 5)"),
    ({"images": np.zeros((2, 1, 4, 4)), "labels": np.zeros((2, 1, 4, 3))}, "array 'labels' (plane 0) has shape"),
    ({"plane0": np.zeros((4, 4)), "labels": np.zeros((4, 4))}, "has 'labels' but no 'images'"),
    ({"images": np.zeros((4, 4)), "label0": np.zeros((4, 4))}, "has 'images' with 'label<k>' arrays"),
])
def test_bad_npz_labels_are_one_line_errors(tmp_path, arrays, problem):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataFileError) as err:
        open_input(tmp_path / "bad.npz")
    assert problem in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("value", [3, -1, 0.5, np.nan])
def test_label_values_other_than_the_codes_are_refused(tmp_path, value):
    label = np.zeros((1, 4, 4), np.float32)
    label[0, 1, 2] = value
    np.savez(tmp_path / "bad.npz", plane0=np.ones((1, 4, 4)), label0=label)
    with pytest.raises(DataFileError, match=r"entry 0 plane 0: truth labels must be 0 \(background\), 1 \(track\) "
                                            r"or 2 \(shower\); found "):
        open_input(tmp_path / "bad.npz").planes(0)


def test_npy_has_no_labels(tmp_path):
    path, _ = write_npy(tmp_path / "ev.npy")
    src = open_input(path)
    assert not src.has_labels and src.products == {"array": ["array"], "particle": []}
    with pytest.raises(DataFileError, match="ev.npy: no truth labels: a .npy file holds images only"):
        src.require_labels()
    with pytest.raises(DataFileError, match="holds no truth labels"):
        ArrayFile(path).labels(0)


def test_larcv3_source_planes_match_the_file(shared):
    from larseg.data.larcv3 import Larcv3File
    from larseg.data.products import planes_from_event

    path = shared / "fixtures" / "larcv3" / "reference_larcv3.h5"
    src = open_input(path)
    assert src.has_labels and src.label_source == "sparse2d segment"
    for k in range(src.n_entries):
        want = planes_from_event(Larcv3File(path).read(k))
        got = src.read(k).planes
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.image, w.image)
            np.testing.assert_array_equal(g.label, w.label)
            np.testing.assert_array_equal(g.instance, w.instance)
            assert g.meta == w.meta and g.vertex == w.vertex
    assert [p.meta.projection_id for p in src.planes(0, projection=2)] == [2]


def test_unknown_content_behind_a_known_suffix(tmp_path):
    for name, kind in (("junk.h5", "an HDF5"), ("junk.root", "a ROOT")):
        (tmp_path / name).write_bytes(b"\x00" * 100)
        with pytest.raises(DataFileError) as err:
            open_input(tmp_path / name)
        assert str(err.value) == f"{tmp_path / name}: not {kind} file"


@pytest.mark.parametrize("fmt", ["root1", "root2", "npz"])
def test_plane_dataset_over_other_formats(tmp_path, fmt):
    if fmt.startswith("root"):
        pytest.importorskip("uproot")
        path, events = write_larcv_root(tmp_path / "ev.root", int(fmt[-1]))
    else:
        path, events = write_npz(tmp_path / "ev.npz")
    ds = PlaneDataset([path, path], plane=1, threshold=30.0)
    assert len(ds) == 6
    item = ds[4]
    image, label = events[1][0][1], events[1][1][1]
    kept = image >= 30.0
    np.testing.assert_array_equal(item["image"][0].numpy(), np.where(kept, image, 0))
    np.testing.assert_array_equal(item["label"].numpy(), np.where(kept, label, 0))
    assert (item["instance"].numpy() == -1).all() and np.isnan(item["vertex"].numpy()).all()
    assert item["index"] == 4
    assert set(PlaneDataset([path], labels=False)[0]) == {"image", "index"}
    import pickle

    again = pickle.loads(pickle.dumps(ds))  # DataLoader workers reopen the file
    np.testing.assert_array_equal(again[4]["label"].numpy(), item["label"].numpy())


def test_plane_dataset_refuses_files_without_labels(tmp_path, shared):
    path, _ = write_npy(tmp_path / "ev.npy")
    with pytest.raises(DataFileError, match="no truth labels"):
        PlaneDataset([path])
    assert len(PlaneDataset([path], labels=False)) == 2

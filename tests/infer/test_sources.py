"""Input formats: LArCV2 ROOT (against the shared manifest), the LArCV1 layout, numpy arrays, larcv3, errors."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from larseg.data.arrays import ArrayFile, save_npz
from larseg.data.larcv3 import Event, ImageMeta, Larcv3Writer, sparse_from_dense
from larseg.errors import DataFileError
from larseg.infer import open_input

pytest.importorskip("uproot")


@pytest.fixture(scope="module")
def larcv2(shared):
    return shared / "fixtures" / "larcv2"


@pytest.fixture(scope="module")
def manifest(larcv2):
    return json.loads((larcv2 / "manifest.json").read_text())


# --- LArCV2 ROOT against every value of the manifest


@pytest.mark.parametrize("name", ["electron.root", "proton.root"])
def test_larcv2_images_match_manifest(larcv2, manifest, name):
    from larseg.data.larcv_root import LarcvRootFile

    f = LarcvRootFile(larcv2 / name)
    entries = manifest["files"][name]
    assert f.version == "LArCV2" and f.producers == ["data"] and f.n_entries == len(entries)
    checked = 0
    for e in entries:
        assert f.event_id(e["entry"]) == (e["run"], e["subrun"], e["event"])
        images = {im.projection_id: im for im in f.images(e["entry"])}
        assert sorted(images) == [p["projection"] for p in e["projections"]]
        for p in e["projections"]:
            im = images[p["projection"]]
            assert im.image.shape == (p["rows"], p["cols"]) and im.image.dtype == np.float32
            assert im.meta.shape == (p["cols"], p["rows"])
            assert im.image.sum(dtype=np.float64) == pytest.approx(p["sum"], rel=1e-5, abs=1e-2)
            assert np.count_nonzero(im.image) == p["nonzero"]
            assert im.image.max() == pytest.approx(p["max"], rel=1e-6)
            assert list(np.unravel_index(np.argmax(im.image), im.image.shape)) == p["argmax_row_col"]
            np.testing.assert_allclose(im.image.sum(axis=1)[:8], p["row_sums_first8"], atol=2e-3)
            checked += 1
        particles = f.particles(e["entry"])
        assert particles["pdg"].tolist() == [q["pdg"] for q in e["particles"]]
        np.testing.assert_allclose(particles["energy_init"], [q["energy_init"] for q in e["particles"]], atol=1e-4)
    assert checked == 3 * len(entries)


def test_larcv2_meta_box(larcv2):
    from larseg.data.larcv_root import LarcvRootFile

    im = LarcvRootFile(larcv2 / "electron.root").images(0)[0]
    # projection 0 of the tutorial files: x in [129, 257], y in [-62.5, 65.5] (p1 = min corner, p2 = max corner)
    assert im.meta.origin == (129.0, -62.5) and im.meta.size == (128.0, 128.0)


def test_root_source_through_open_input(larcv2):
    src = open_input(larcv2 / "proton.root")
    assert src.format == "LArCV2" and src.n_entries == 10 and src.event_id(3) == (1, 0, 4)
    with pytest.raises(DataFileError, match=r"no image2d producer 'wire' \(has: data\)"):
        open_input(larcv2 / "proton.root", producer="wire")
    with pytest.raises(DataFileError, match="entry 10 out of range"):
        src.images(10)


def test_root_file_without_image2d(tmp_path):
    import uproot

    path = tmp_path / "other.root"
    with uproot.recreate(path) as f:
        f["events"] = {"x": np.arange(3, dtype=np.float32)}
    with pytest.raises(DataFileError, match=r"no image2d_<producer>_tree .*\(has: events\)"):
        open_input(path)


def test_truncated_root_file(tmp_path, larcv2):
    bad = tmp_path / "cut.root"
    bad.write_bytes((larcv2 / "electron.root").read_bytes()[:4000])
    with pytest.raises(DataFileError) as err:
        src = open_input(bad)
        src.images(0)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)


# --- the LArCV1 and LArCV2 leaf mappings on synthetic leaves


def _column_major(image: np.ndarray) -> np.ndarray:
    return image.T.reshape(-1)  # flat index = col * rows + row


def test_leaf_mapping_larcv2_is_column_major():
    from larseg.data.larcv_root import images_from_leaves

    image = np.arange(12, dtype=np.float32).reshape(3, 4)  # 3 rows, 4 cols
    leaves = {"_img": [_column_major(image)], "_meta._id": [2], "_meta._row_count": [3], "_meta._col_count": [4],
              "_meta._p1.x": [10.0], "_meta._p1.y": [20.0], "_meta._p2.x": [14.0], "_meta._p2.y": [26.0]}
    (im,) = images_from_leaves(2, leaves)
    np.testing.assert_array_equal(im.image, image)
    assert im.projection_id == 2 and im.meta.shape == (4, 3)
    assert im.meta.size == (4.0, 6.0) and im.meta.origin == (10.0, 20.0)


def test_leaf_mapping_larcv1_flips_rows_to_increasing_y():
    from larseg.data.larcv_root import images_from_leaves

    stored = np.arange(12, dtype=np.float32).reshape(3, 4)  # LArCV1: row 0 is the top (highest y)
    leaves = {"_img": [_column_major(stored)], "_meta._plane": [1], "_meta._row_count": [3],
              "_meta._col_count": [4], "_meta._origin.x": [0.0], "_meta._origin.y": [8448.0],
              "_meta._width": [4.0], "_meta._height": [18.0]}
    (im,) = images_from_leaves(1, leaves)
    np.testing.assert_array_equal(im.image, stored[::-1])
    assert im.projection_id == 1 and im.meta.origin == (0.0, 8430.0) and im.meta.size == (4.0, 18.0)


def test_leaf_mapping_rejects_wrong_pixel_count():
    from larseg.data.larcv_root import images_from_leaves

    leaves = {"_img": [np.zeros(11, np.float32)], "_meta._id": [0], "_meta._row_count": [3],
              "_meta._col_count": [4], "_meta._p1.x": [0.0], "_meta._p1.y": [0.0], "_meta._p2.x": [1.0],
              "_meta._p2.y": [1.0]}
    with pytest.raises(ValueError, match="entry 5 image 0: 11 pixels, its meta says 3 x 4"):
        images_from_leaves(2, leaves, "entry 5")


# --- numpy arrays


def test_npy_shapes(tmp_path):
    rng = np.random.default_rng(0)
    one = rng.random((20, 30)).astype(np.float32)
    np.save(tmp_path / "one.npy", one)
    f = ArrayFile(tmp_path / "one.npy")
    assert f.n_entries == 1 and f.projections == [0] and f.event_id(0) == (0, 0, 0)
    np.testing.assert_array_equal(f.images(0)[0].image, one)
    assert f.images(0)[0].meta.shape == (30, 20)

    planes = rng.random((3, 20, 30))
    np.save(tmp_path / "planes.npy", planes)
    f = ArrayFile(tmp_path / "planes.npy")
    assert f.n_entries == 1 and f.projections == [0, 1, 2]
    np.testing.assert_allclose(f.images(0)[2].image, planes[2])

    events = rng.random((4, 2, 20, 30)).astype(np.float16)
    np.save(tmp_path / "events.npy", events)
    f = open_input(tmp_path / "events.npy").file
    assert f.n_entries == 4 and f.event_id(3) == (0, 0, 3)
    im = f.images(2, [1])[0]
    assert im.image.dtype == np.float32 and im.projection_id == 1
    np.testing.assert_allclose(im.image, events[2, 1].astype(np.float32))


def test_npz_plane_keys_of_different_sizes_and_ids(tmp_path):
    rng = np.random.default_rng(1)
    planes = [rng.random((2, 16, 24)), rng.random((2, 16, 24)), rng.random((2, 16, 36))]
    ids = np.array([[5, 1, 100], [5, 1, 101]])
    path = save_npz(tmp_path / "ev.npz", planes, ids)
    src = open_input(path)
    assert src.n_entries == 2 and src.event_id(1) == (5, 1, 101)
    shapes = [im.image.shape for im in src.images(0)]
    assert shapes == [(16, 24), (16, 24), (16, 36)]
    # 'images' key with the .npy conventions
    np.savez(tmp_path / "img.npz", images=rng.random((3, 1, 8, 8)), event=np.array([7, 8, 9]))
    src = open_input(tmp_path / "img.npz")
    assert src.n_entries == 3 and src.event_id(2) == (0, 0, 9)


@pytest.mark.parametrize("make, problem", [
    (lambda p: np.save(p.with_suffix(".npy"), np.zeros(5)), "expected (H, W), (P, H, W) or (N, P, H, W)"),
    (lambda p: np.save(p.with_suffix(".npy"), np.zeros((1, 1, 1, 4, 4))), "expected (H, W)"),
    (lambda p: np.save(p.with_suffix(".npy"), np.zeros((0, 3))), "empty images"),
    (lambda p: np.save(p.with_suffix(".npy"), np.zeros((0, 1, 4, 4))), "holds no events"),
    (lambda p: np.save(p.with_suffix(".npy"), np.array([[{"a": 1}]], dtype=object)), "pickled"),
    (lambda p: np.save(p.with_suffix(".npy"), np.array([["ab", "cd"]])), "numeric images are needed"),
    (lambda p: np.savez(p.with_suffix(".npz"), x=np.zeros((4, 4))), "no 'images' or 'plane0'"),
    (lambda p: np.savez(p.with_suffix(".npz"), images=np.zeros((4, 4)), plane0=np.zeros((4, 4))), "both"),
    (lambda p: np.savez(p.with_suffix(".npz"), plane0=np.zeros((2, 4, 4)), plane1=np.zeros((3, 4, 4))),
     "different numbers of events"),
    (lambda p: np.savez(p.with_suffix(".npz"), images=np.zeros((2, 1, 4, 4)), run=np.array([1, 2, 3])),
     "array 'run' must hold 2 integers"),
])
def test_bad_arrays_are_one_line_errors(tmp_path, make, problem):
    make(tmp_path / "bad")
    path = next(tmp_path.glob("bad.*"))
    with pytest.raises(DataFileError) as err:
        open_input(path)
    assert problem in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_plane_of_array(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 4, 4)))
    with pytest.raises(DataFileError, match="entry 0: no plane 2"):
        ArrayFile(tmp_path / "a.npy").images(0, [2])


# --- larcv3 and unknown formats


def _larcv3(path, producer="wire"):
    meta = ImageMeta.for_dense(0, 8, 12, (0.3, 0.3))
    image = np.zeros((8, 12), np.float32)
    image[3, 4] = 42.0
    with Larcv3Writer(path) as w:
        w.write(Event(1, 2, 3, sparse2d={producer: [sparse_from_dense(image, meta)]}))
    return image


def test_larcv3_source(tmp_path):
    image = _larcv3(tmp_path / "a.h5")
    src = open_input(tmp_path / "a.h5")
    assert src.format == "larcv3" and src.event_id(0) == (1, 2, 3)
    np.testing.assert_array_equal(src.images(0)[0].image, image)
    _larcv3(tmp_path / "b.h5", producer="adc")
    with pytest.raises(DataFileError, match=r"no sparse2d product 'wire' \(has: adc\); choose one with --producer"):
        open_input(tmp_path / "b.h5")
    assert open_input(tmp_path / "b.h5", producer="adc").producer == "adc"


@pytest.mark.parametrize("content, problem", [
    (b"run,subrun,event\n1,2,3\n", "unknown format (suffix '.csv')"),
    (b"", "an empty file"),
])
def test_unknown_formats(tmp_path, content, problem):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError) as err:
        open_input(path)
    assert str(err.value) == f"{path}: {problem}; expected a larcv3 HDF5 file (.h5), a LArCV1/LArCV2 ROOT file " \
                             "(.root) or a numpy array (.npy/.npz)"


def test_hdf5_that_is_not_larcv3_and_directories(tmp_path):
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(DataFileError, match="not a larcv3 file"):
        open_input(tmp_path / "plain.h5")
    with pytest.raises(DataFileError, match="is a directory"):
        open_input(tmp_path)
    with pytest.raises(DataFileError, match="no such file"):
        open_input(tmp_path / "nope.h5")

"""The larcv3 layout against a file written by the real larcv3 library."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest

from larseg.data.larcv3 import (
    Cluster,
    ClusterSet,
    Event,
    ImageMeta,
    Larcv3File,
    Larcv3Writer,
    sparse_from_dense,
)
from larseg.errors import DataFileError


@pytest.fixture(scope="module")
def reference(shared):
    return shared / "fixtures" / "larcv3" / "reference_larcv3.h5"


@pytest.fixture(scope="module")
def manifest(shared):
    return json.loads((shared / "fixtures" / "larcv3" / "reference_larcv3.json").read_text())


def _same_rows(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal field by field (padding bytes between fields are not data)."""
    if a.dtype.names is None:
        return a.shape == b.shape and np.array_equal(a, b)
    return a.dtype.names == b.dtype.names and all(_same_rows(a[n], b[n]) for n in a.dtype.names)


def _instance_of(cluster_set: ClusterSet, index: np.ndarray) -> np.ndarray:
    lookup = {}
    for c in cluster_set.clusters:
        for i in c.index.tolist():
            lookup[i] = c.cluster_id
    return np.array([lookup.get(int(i), -1) for i in index])


def test_reads_every_value_of_the_manifest(reference, manifest):
    f = Larcv3File(reference)
    assert f.n_entries == len(manifest["events"])
    for ptype, producers in manifest["producers"].items():
        assert sorted(f.products[ptype]) == sorted(producers)
    for entry, ev in enumerate(manifest["events"]):
        assert f.event_id(entry) == (ev["run"], ev["subrun"], ev["event"])
        wire = f.sparse2d("wire", entry)
        segment = f.sparse2d("segment", entry)
        inst = f.cluster2d("instance", entry)
        assert len(wire) == len(ev["projections"])
        for img, seg, cset, proj in zip(wire, segment, inst, ev["projections"]):
            assert img.meta.projection_id == proj["projection_id"]
            assert list(img.meta.shape) == proj["shape"]
            np.testing.assert_allclose(img.meta.size, proj["size_cm"])
            np.testing.assert_array_equal(img.index, proj["index"])
            np.testing.assert_array_equal(img.value, np.float32(proj["value"]))
            np.testing.assert_array_equal(seg.index, proj["index"])
            np.testing.assert_array_equal(seg.value, np.float32(proj["label"]))
            np.testing.assert_array_equal(_instance_of(cset, img.index), proj["instance"])
        parts = f.particles("truth", entry)
        assert len(parts) == len(ev["particles"])
        for rec, want in zip(parts, ev["particles"]):
            for key in ("id", "pdg", "trackid", "energy_init", "energy_deposit"):
                assert rec[key] == want[key], key
            assert [rec["vtx"][k] for k in "xyzt"] == want["vtx"]


def test_dense_is_rows_time_columns_wire(reference, manifest):
    img = Larcv3File(reference).sparse2d("wire", 0)[2]
    dense = img.dense()
    n_wires, n_rows = img.meta.shape
    assert dense.shape == (n_rows, n_wires)
    for idx, val in zip(img.index[:20], img.value[:20]):
        wire, row = divmod(int(idx), n_rows)
        assert dense[row, wire] == val
    back = sparse_from_dense(dense, img.meta)
    np.testing.assert_array_equal(np.sort(back.index), np.sort(img.index))


def test_rewrite_reads_back_identically(reference, tmp_path):
    src = Larcv3File(reference)
    out = tmp_path / "copy.h5"
    with Larcv3Writer(out, metadata={"note": "copy"}) as w:
        for ev in src:
            w.write(ev)
    copy = Larcv3File(out)
    assert copy.n_entries == src.n_entries
    assert copy.metadata["note"] == "copy"
    for a, b in zip(src, copy):
        assert (a.run, a.subrun, a.event) == (b.run, b.subrun, b.event)
        for prod in a.sparse2d:
            for x, y in zip(a.sparse2d[prod], b.sparse2d[prod]):
                assert x.meta == y.meta
                np.testing.assert_array_equal(x.index, y.index)
                np.testing.assert_array_equal(x.value, y.value)
        for prod in a.cluster2d:
            for x, y in zip(a.cluster2d[prod], b.cluster2d[prod]):
                assert x.meta == y.meta
                assert [c.cluster_id for c in x.clusters] == [c.cluster_id for c in y.clusters]
                for cx, cy in zip(x.clusters, y.clusters):
                    np.testing.assert_array_equal(cx.index, cy.index)
                    np.testing.assert_array_equal(cx.value, cy.value)
        for prod in a.particle:
            assert _same_rows(a.particle[prod], b.particle[prod])
    # Table by table, the written file holds exactly the reference's rows.
    with h5py.File(reference) as ref, h5py.File(out) as mine:
        def rows(f):
            out = {}
            f.visititems(lambda n, o: out.__setitem__(n, o[:]) if isinstance(o, h5py.Dataset) else None)
            return out
        r, m = rows(ref), rows(mine)
        assert r.keys() == m.keys()
        for name in r:
            assert _same_rows(r[name], m[name]), name


def test_structure_and_dtypes_match_reference(reference, tmp_path):
    out = tmp_path / "copy.h5"
    with Larcv3Writer(out) as w:
        for ev in Larcv3File(reference):
            w.write(ev)

    def layout(path):
        items = {}
        with h5py.File(path) as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    items[name] = ("dataset", obj.dtype, obj.ndim, obj.maxshape, obj.chunks is not None,
                                   obj.compression, len(obj.attrs))
                else:
                    items[name] = ("group", len(obj.attrs))
            f.visititems(visit)
        return items

    ref, mine = layout(reference), layout(out)
    assert ref.keys() == mine.keys()
    for name in ref:
        assert ref[name] == mine[name], name
        if ref[name][0] == "dataset":
            rd = ref[name][1]
            md = mine[name][1]
            assert rd.itemsize == md.itemsize, name
            for field in rd.names or ():
                assert rd.fields[field][0] == md.fields[field][0], (name, field)
                assert rd.fields[field][1] == md.fields[field][1], (name, field, "offset")


def _event(n_events=5):
    rng = np.random.default_rng(1)
    events = []
    for k in range(n_events):
        image = np.where(rng.random((12, 8)) < 0.2, rng.uniform(10, 100, (12, 8)), 0).astype(np.float32)
        meta = ImageMeta.for_dense(2, 12, 8, (0.3, 0.33))
        sp = sparse_from_dense(image, meta)
        clusters = ClusterSet(meta, [Cluster(0, sp.index[::2], sp.value[::2]),
                                     Cluster(1, sp.index[1::2], sp.value[1::2])])
        events.append(Event(1, 0, k, sparse2d={"wire": [sp]}, cluster2d={"instance": [clusters]}))
    return events


def test_interrupted_write_leaves_no_final_file_and_resumes(tmp_path):
    out = tmp_path / "run.h5"
    events = _event(5)
    with pytest.raises(RuntimeError):
        with Larcv3Writer(out, flush_every=1) as w:
            for ev in events[:3]:
                w.write(ev)
            raise RuntimeError("killed")
    assert not out.exists()
    partial = tmp_path / "run.h5.partial"
    assert partial.is_dir() and len(list(partial.glob("seg-*.h5"))) == 3
    # a crash while the 4th event's segment was being written: a half-written temporary file
    (partial / ".seg-00000003.tmp").write_bytes(b"\x89HDF half of a segment")
    w = Larcv3Writer(out, resume=True)
    assert w.n_entries == 3
    for ev in events[3:]:
        w.write(ev)
    w.close()
    assert not partial.exists()
    ref = tmp_path / "ref.h5"
    with Larcv3Writer(ref) as w2:
        for ev in events:
            w2.write(ev)
    a, b = Larcv3File(out), Larcv3File(ref)
    assert a.n_entries == 5
    for i in range(5):
        x, y = a.sparse2d("wire", i)[0], b.sparse2d("wire", i)[0]
        np.testing.assert_array_equal(x.index, y.index)
        np.testing.assert_array_equal(x.value, y.value)
        assert [c.cluster_id for c in a.cluster2d("instance", i)[0].clusters] == [0, 1]
    assert out.read_bytes() == ref.read_bytes()  # resumed = uninterrupted, bit for bit


def test_products_must_not_change_between_events(tmp_path):
    events = _event(2)
    events[1].cluster2d = {}
    with pytest.raises(ValueError, match="differ"):
        with Larcv3Writer(tmp_path / "x.h5") as w:
            for ev in events:
                w.write(ev)


# --- bad files: one line naming the file and the problem


def _one_line(exc: DataFileError, path) -> str:
    msg = str(exc)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def test_not_hdf5(tmp_path):
    bad = tmp_path / "notes.h5"
    bad.write_text("this is not HDF5\n")
    with pytest.raises(DataFileError) as exc:
        Larcv3File(bad)
    assert "not an HDF5 file" in _one_line(exc.value, bad)


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="no such file"):
        Larcv3File(tmp_path / "absent.h5")


def test_truncated(reference, tmp_path):
    bad = tmp_path / "truncated.h5"
    data = reference.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError) as exc:
        f = Larcv3File(bad)
        for i in range(f.n_entries):
            f.read(i)
    assert "truncated" in _one_line(exc.value, bad) or "corrupt" in str(exc.value)


def test_missing_product(reference):
    with pytest.raises(DataFileError) as exc:
        Larcv3File(reference).sparse2d("adc", 0)
    assert "no sparse2d product 'adc' (has: " in _one_line(exc.value, reference)


def test_entry_out_of_range(reference):
    with pytest.raises(DataFileError, match="entry 3 out of range"):
        Larcv3File(reference).sparse2d("wire", 3)


def test_inconsistent_extents(reference, tmp_path):
    bad = tmp_path / "extents.h5"
    shutil.copy(reference, bad)
    with h5py.File(bad, "a") as f:
        ve = f["Data/sparse2d_wire_group/voxel_extents"]
        row = ve[8]
        row["N"] = 10_000
        ve[8] = row
    f = Larcv3File(bad)
    f.sparse2d("wire", 0)  # untouched entries still read
    with pytest.raises(DataFileError) as exc:
        f.sparse2d("wire", 2)
    assert "inconsistent extents" in _one_line(exc.value, bad)


def test_entry_count_mismatch(reference, tmp_path):
    bad = tmp_path / "count.h5"
    shutil.copy(reference, bad)
    with h5py.File(bad, "a") as f:
        f["Data/particle_truth_group/extents"].resize((2,))
    with pytest.raises(DataFileError, match="inconsistent extents: particle 'truth' has 2 entries"):
        Larcv3File(bad).particles("truth", 0)


def test_index_out_of_image(reference, tmp_path):
    bad = tmp_path / "index.h5"
    shutil.copy(reference, bad)
    with h5py.File(bad, "a") as f:
        vox = f["Data/sparse2d_wire_group/voxels"]
        row = vox[3]
        row["id"] = 64 * 48 + 5
        vox[3] = row
    with pytest.raises(DataFileError) as exc:
        Larcv3File(bad).sparse2d("wire", 0)
    assert "out of the 64x48 image" in _one_line(exc.value, bad)


def test_not_larcv(tmp_path):
    bad = tmp_path / "other.h5"
    with h5py.File(bad, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(DataFileError, match="not a larcv3 file"):
        Larcv3File(bad)


def test_worker_process_gets_its_own_handle(reference):
    import pickle

    f = Larcv3File(reference)
    f.sparse2d("wire", 0)
    clone = pickle.loads(pickle.dumps(f))
    assert clone._file is None
    np.testing.assert_array_equal(clone.sparse2d("wire", 1)[0].index, f.sparse2d("wire", 1)[0].index)

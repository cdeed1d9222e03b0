"""The hand-labels file and its journal (larseg.data.handlabels): no acknowledged edit is ever lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from larseg.data.handlabels import (
    FORMAT,
    IGNORE,
    PRODUCER,
    SHOWER,
    TRACK,
    EventKey,
    LabelStore,
    journal_path,
    load_labels,
    read_labels,
)
from larseg.data.larcv3 import ImageMeta, Larcv3File
from larseg.errors import DataFileError

ROWS, COLS = 40, 56
META = ImageMeta.for_dense(2, ROWS, COLS, (0.3, 0.3))
KEY = EventKey("/data/run1.h5", 7)


def _store(path, scanner="alice", **kw) -> LabelStore:
    store = LabelStore(path, scanner, **kw)
    store.register(KEY, (1, 2, 3), {2: META})
    return store


def test_edits_survive_reopen_and_save(tmp_path):
    path = tmp_path / "labels.h5"
    store = _store(path)
    changed, before = store.set(KEY, 2, np.array([5, 6, 7, 7]), np.array([TRACK, TRACK, SHOWER, IGNORE]))
    assert changed.tolist() == [5, 6, 7] and before.tolist() == [0, 0, 0]  # the last value of pixel 7 wins
    changed, before = store.set(KEY, 2, np.array([6, 9]), 0)  # erasing 6; 9 was never labelled
    assert changed.tolist() == [6] and before.tolist() == [TRACK]
    store.mark_done(KEY)
    store.close(save=False)  # as if killed: only the journal holds the edits
    assert not path.exists()
    (ev,) = load_labels(path)
    assert ev.planes[2].index.tolist() == [5, 7] and ev.planes[2].code.tolist() == [TRACK, IGNORE]
    assert ev.done and ev.scanner == "alice" and ev.ids == (1, 2, 3)
    with LabelStore(path, "alice") as store:  # replays the journal, saves at close
        assert store.events[KEY].planes[2].dense()[0, 5] == TRACK
    assert journal_path(path).stat().st_size == 0
    (ev,) = read_labels(path)
    assert ev.planes[2].dense()[0, 7] == IGNORE and ev.done and ev.key == KEY


def test_file_is_larcv3_layout_with_larcv_pixel_ids(tmp_path):
    path = tmp_path / "labels.h5"
    with _store(path) as store:
        store.set(KEY, 2, np.array([3 * COLS + 10]), SHOWER)  # row 3, column (wire) 10
    with h5py.File(path, "r") as f:
        assert f.attrs["larseg_format"] == FORMAT and f.attrs["scanner"] == "alice"
        vox = f[f"Data/sparse2d_{PRODUCER}_group/voxels"][:]
        assert vox["id"].tolist() == [10 * ROWS + 3]  # larcv: wire * n_rows + row
        assert vox["value"].tolist() == [SHOWER]
    with Larcv3File(path) as f:
        (img,) = f.sparse2d(PRODUCER, 0)
        assert img.meta.projection_id == 2 and img.dense()[3, 10] == SHOWER
        assert f.event_id(0) == (1, 2, 3)


def test_torn_last_record_is_dropped_and_damage_is_refused(tmp_path):
    path = tmp_path / "labels.h5"
    store = _store(path)
    store.set(KEY, 2, np.array([1]), TRACK)
    store.set(KEY, 2, np.array([2]), TRACK)
    store.close(save=False)
    journal = journal_path(path)
    data = journal.read_bytes()
    journal.write_bytes(data[:-7])  # the last record torn mid-write (a kill during os.write)
    with LabelStore(path, "alice") as store:
        assert store.events[KEY].planes[2].index.tolist() == [1]
        store.set(KEY, 2, np.array([3]), SHOWER)  # appended after the cut, not after the torn bytes
    assert read_labels(path)[0].planes[2].index.tolist() == [1, 3]
    store = _store(path)
    store.set(KEY, 2, np.array([4]), TRACK)
    store.set(KEY, 2, np.array([5]), TRACK)
    store.close(save=False)
    lines = journal.read_bytes().split(b"\n")
    lines[0] = lines[0].replace(b'"cls":1', b'"cls":2')  # an altered record before the last
    journal.write_bytes(b"\n".join(lines))
    with pytest.raises(DataFileError, match="line 1 is damaged"):
        LabelStore(path, "alice")


def test_crash_between_file_and_journal_rename_replays_nothing_twice(tmp_path):
    path = tmp_path / "labels.h5"
    store = _store(path)
    store.set(KEY, 2, np.array([1, 2]), TRACK)
    store.set(KEY, 2, np.array([2]), 0)
    old_journal = journal_path(path).read_bytes()
    store.save()
    store.close(save=False)
    journal_path(path).write_bytes(old_journal)  # the journal rename never happened
    with LabelStore(path, "alice") as store:
        assert store.events[KEY].planes[2].index.tolist() == [1]
        assert store.seq == 3  # the event and two edits: records up to the file's journal_seq are skipped
        store.set(KEY, 2, np.array([2]), SHOWER)
    assert read_labels(path)[0].planes[2].code.tolist() == [TRACK, SHOWER]


def test_one_scanner_per_file_and_one_session_per_file(tmp_path):
    path = tmp_path / "labels.h5"
    with _store(path) as store:
        store.set(KEY, 2, np.array([1]), TRACK)
    with pytest.raises(DataFileError, match="scanner 'alice', not 'bob'"):
        LabelStore(path, "bob")
    store = LabelStore(path, "alice")
    with pytest.raises(DataFileError, match="open in another"):
        LabelStore(path, "alice")
    store.close()
    LabelStore(path, "alice").close()  # the lock is released at close
    with pytest.raises(DataFileError, match="does not exist"):
        LabelStore(tmp_path / "no" / "labels.h5", "alice")
    (tmp_path / "other.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(DataFileError, match="not an HDF5 labels file"):
        LabelStore(tmp_path / "other.h5", "alice")


_edit = st.tuples(st.lists(st.integers(0, ROWS * COLS - 1), min_size=1, max_size=30), st.integers(0, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(_edit, min_size=1, max_size=25), save_at=st.integers(0, 25))
def test_store_matches_a_dense_reference_through_saves_and_replays(tmp_path_factory, edits, save_at):
    path = tmp_path_factory.mktemp("hl") / "labels.h5"
    reference = np.zeros(ROWS * COLS, np.uint8)
    store = _store(path, autosave_every=7)
    for k, (pixels, code) in enumerate(edits):
        store.set(KEY, 2, np.array(pixels), code)
        reference[pixels] = code
        if k == save_at:
            store.save()
    assert np.array_equal(store.events[KEY].planes[2].dense().reshape(-1), reference)
    store.close(save=False)
    (ev,) = load_labels(path)  # file + journal, read-only
    assert np.array_equal(ev.planes[2].dense().reshape(-1), reference)
    LabelStore(path, "alice").close()
    (ev,) = read_labels(path)
    assert np.array_equal(ev.planes[2].dense().reshape(-1), reference)


_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from larseg.data.handlabels import EventKey, LabelStore
    from larseg.data.larcv3 import ImageMeta
    store = LabelStore(sys.argv[1], "alice", autosave_every=int(sys.argv[2]))
    key = EventKey("/data/run1.h5", 7)
    store.register(key, (1, 2, 3), {2: ImageMeta.for_dense(2, 40, 56, (0.3, 0.3))})
    rng = np.random.default_rng(0)
    for k in range(100000):
        pixels = rng.integers(0, 40 * 56, 20)
        store.set(key, 2, pixels, int(k % 4))
        print(k, flush=True)  # acknowledged: the record is fsynced
""")


@pytest.mark.parametrize("autosave", [0, 5])
def test_kill_9_loses_no_acknowledged_edit(tmp_path, autosave):
    """A writer killed with SIGKILL at random moments (autosave: also while it rewrites the file)."""
    rng = np.random.default_rng(autosave)
    for round_ in range(3):
        path = tmp_path / f"labels-{round_}.h5"
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(autosave)], stdout=subprocess.PIPE,
                                text=True)
        time.sleep(0.8 + rng.uniform(0, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        done = [int(x) for x in out.split()]
        assert done, "the writer acknowledged nothing before the kill"
        acked = done[-1]
        # the edits the writer made, replayed here: the state after edit `acked` (or one more, when
        # the kill fell after the fsync of the next edit but before it was acknowledged)
        expect = [np.zeros(40 * 56, np.uint8)]
        gen = np.random.default_rng(0)
        for k in range(acked + 2):
            pixels = gen.integers(0, 40 * 56, 20)
            nxt = expect[-1].copy()
            nxt[pixels] = k % 4
            expect.append(nxt)
        (ev,) = load_labels(path)
        got = ev.planes[2].dense().reshape(-1)
        assert np.array_equal(got, expect[acked + 1]) or np.array_equal(got, expect[acked + 2])
        for stale in tmp_path.glob("*.partial"):  # a rewrite killed midway leaves its journal directory
            assert stale.is_dir()

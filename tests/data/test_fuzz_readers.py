"""Fuzzed input files: every reader gives a correct result or a one-line DataFileError, never another exception.

Byte flips and truncations of a larcv3 HDF5 file, the larcv2 ROOT fixtures and a
.npz file are opened with :func:`larseg.data.sources.open_input` and every entry is
read (images, labels where the format has them, event ids). The property: either
reading works, or a :class:`DataFileError` naming the file is raised. CI runs a
few dozen examples per format; ``pytest -m slow`` runs many more.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from format_helpers import write_npy, write_npz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from larseg.data.sources import open_input
from larseg.errors import DataFileError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"


def _read_all(path: Path) -> None:
    src = open_input(path)
    for entry in range(min(src.n_entries, 5)):
        for im in src.images(entry):
            assert np.asarray(im.image).ndim == 2
        src.event_id(entry)
        if src.has_labels:
            src.planes(entry)


def _check(path: Path) -> None:
    try:
        _read_all(path)
    except DataFileError as exc:
        text = str(exc)
        assert str(path) in text and "\n" not in text
    except MemoryError:  # pragma: no cover - a size read from the file was not bounded
        pytest.fail(f"{path}: allocation not bounded")


def _mutate(data: bytes, flips, cut: float | None) -> bytes:
    out = bytearray(data)
    for where, bits in flips:
        out[int(where * len(out))] ^= bits
    if cut is not None:
        out = out[: int(cut * len(out))]
    return bytes(out)


def _sources(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("fuzz-src")
    files = {"larcv3": SHARED / "larcv3" / "reference_larcv3.h5", "root": SHARED / "larcv2" / "electron.root"}
    files["npz"] = write_npz(base / "arrays.npz")[0]  # planes and labels
    files["npy"] = write_npy(base / "arrays.npy")[0]
    return files


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    files = _sources(tmp_path_factory)
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        pytest.skip(f"fixtures not found: {missing}")
    for p in files.values():
        _read_all(p)  # the unmodified files read
    return {k: p.read_bytes() for k, p in files.items()}


MUTATION = st.tuples(st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=12),
                     st.one_of(st.none(), st.floats(0.0, 1.0, exclude_max=True)))


_COUNTER = itertools.count()


def _run(originals, tmp_path, kind, mutation):
    flips, cut = mutation
    suffix = {"larcv3": ".h5", "root": ".root", "npz": ".npz", "npy": ".npy"}[kind]
    path = tmp_path / f"fuzzed-{next(_COUNTER)}{suffix}"  # a new name: HDF5 must not see a cached file
    path.write_bytes(_mutate(originals[kind], flips, cut))
    _check(path)


@pytest.mark.parametrize("kind", ["larcv3", "root", "npz", "npy"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=MUTATION)
def test_fuzzed_files_give_a_result_or_one_line(originals, tmp_path, kind, mutation):
    _run(originals, tmp_path, kind, mutation)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["larcv3", "root", "npz", "npy"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=MUTATION)
def test_fuzzed_files_many(originals, tmp_path, kind, mutation):
    _run(originals, tmp_path, kind, mutation)

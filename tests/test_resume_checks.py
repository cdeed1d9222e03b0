"""``--resume`` continues a run only with the settings it was started with (issue 13).

``simulate --resume`` used to accept any partial file: another seed, preset, ``--set``
or ``--full-event`` mixed two runs in one file. Each mix is now refused with one line
naming the file and the first setting that differs, and the partial file is left as it
was; the same settings still resume to the bytes of an uninterrupted run. ``train
--resume`` refuses other data files.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import h5py
import pytest
import yaml
from cli_helpers import kill_after, run_cli

from larseg import __version__
from larseg.config import resolve
from larseg.data.larcv3 import Larcv3File, read_journal
from larseg.data.resume import content_sha256, first_difference
from larseg.errors import LarsegError
from larseg.simulation import simulate_file

SEED = 5


_kill_after_two = kill_after(2)


def _interrupted(path: Path, preset: str = "mpv", n: int = 4, **kw) -> Path:
    """An interrupted run of ``preset``: ``path.partial`` with 2 committed events."""
    with pytest.raises(KeyboardInterrupt):
        simulate_file(resolve("simulation", preset), n, path, seed=SEED, progress_factory=_kill_after_two, **kw)
    partial = path.with_name(path.name + ".partial")
    assert not path.exists() and partial.exists()
    return partial


def _sha(path: Path) -> str:
    """sha256 of a file, or of a directory's file names and bytes (a writer's journal)."""
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _edit_metadata(partial: Path, change) -> None:
    """Change the recorded metadata of a journal (what resume compares)."""
    meta_file = partial / "metadata.yaml"
    meta = yaml.safe_load(meta_file.read_text())
    change(meta)
    meta_file.write_text(yaml.safe_dump(meta, sort_keys=False))


def _tables(path: Path) -> dict:
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[:].tobytes()) if isinstance(o, h5py.Dataset) else None)
    return out


def _refused(capsys, partial: Path, *args) -> str:
    """Run ``larseg simulate ARGS``; it must fail with one line and leave ``partial`` unchanged."""
    before = _sha(partial)
    code, _, err = run_cli(capsys, "simulate", *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("larseg: error: "), err
    assert "Traceback" not in err
    assert _sha(partial) == before
    assert read_journal(partial)[1] == 2
    return lines[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run: mpv, 4 events, seed 5."""
    path = tmp_path_factory.mktemp("ref") / "ref.h5"
    simulate_file(resolve("simulation", "mpv"), 4, path, seed=SEED)
    return path


@pytest.mark.parametrize("args, problem", [
    (("mpv", "--seed", "6"), "it was written with seed = 5, not 6"),
    (("mpv", "--seed", "6", "--workers", "2"), "it was written with seed = 5, not 6"),
    (("1e1p", "--seed", "5"), "it was written with preset = 'mpv', not '1e1p'"),
    (("mpv", "--seed", "5", "--set", "detector.response.gain_scale=0.8"),
     "it was written with detector.response.gain_scale = 1.0, not 0.8"),
    (("mpv", "--seed", "5", "--full-event"), "it was written with mode = 'crop', not 'full-event'"),
])
def test_simulate_refuses_to_mix_runs(capsys, tmp_path, reference, args, problem):
    out = tmp_path / "out.h5"
    partial = _interrupted(out)
    line = _refused(capsys, partial, args[0], "-n", "4", "-o", out, "--resume", *args[1:])
    assert line == (f"larseg: error: {partial}: cannot resume: {problem} "
                    "(same settings needed, or delete it to start again)")
    assert not out.exists()
    # the same command as the interrupted run resumes it, in parallel too, to the uninterrupted bytes
    code, stdout, err = run_cli(capsys, "simulate", "mpv", "-n", "4", "-o", out, "--seed", "5", "--resume",
                                "--workers", "2")
    assert code == 0, err
    assert "wrote 4 events" in stdout
    assert _tables(out) == _tables(reference)


def test_simulate_refuses_other_shard_counts_version_and_foreign_files(capsys, tmp_path):
    # a shard's events depend on the sample size: -n must stay
    out = tmp_path / "shard.h5"
    partial = _interrupted(out, n=8, shard=(1, 2))
    line = _refused(capsys, partial, "mpv", "-n", "10", "-o", out, "--seed", "5", "--shard", "1/2", "--resume")
    assert "cannot resume: it was written with events = 8, not 10" in line
    line = _refused(capsys, partial, "mpv", "-n", "8", "-o", out, "--seed", "5", "--shard", "0/2", "--resume")
    assert "cannot resume: it was written with shard = '1/2', not '0/2'" in line
    # another larseg version may simulate other events
    _edit_metadata(partial, lambda m: m.__setitem__("larseg_version", "0.0.1"))
    line = _refused(capsys, partial, "mpv", "-n", "8", "-o", out, "--seed", "5", "--shard", "1/2", "--resume")
    assert f"cannot resume: it was written with larseg_version = '0.0.1', not '{__version__}'" in line
    # a partial file of another command
    _edit_metadata(partial, lambda m: m.pop("larseg_config"))
    line = _refused(capsys, partial, "mpv", "-n", "8", "-o", out, "--seed", "5", "--shard", "1/2", "--resume")
    assert line.endswith(f"{partial}: cannot resume: not written by 'larseg simulate' (delete it to start again)")


def test_unsharded_resume_may_ask_for_more_events(capsys, tmp_path):
    """Event k depends on (config, seed, k) only: an unsharded run started with -n 3 may finish with -n 5
    (the same bytes as an uninterrupted -n 5 run), but not with fewer events than it holds."""
    ref = tmp_path / "ref.h5"
    simulate_file(resolve("simulation", "1e1p-le"), 5, ref, seed=SEED)
    out = tmp_path / "out.h5"
    partial = _interrupted(out, preset="1e1p-le", n=3)
    line = _refused(capsys, partial, "1e1p-le", "-n", "1", "-o", out, "--seed", "5", "--resume")
    assert line.endswith(f"{partial}: holds 2 events, more than the 1 asked for")
    code, _, err = run_cli(capsys, "simulate", "1e1p-le", "-n", "5", "-o", out, "--seed", "5", "--resume")
    assert code == 0, err
    assert _tables(out) == _tables(ref)
    assert Larcv3File(out).metadata["n_events_total"] == "5"


def test_first_difference_names_the_dotted_key():
    assert first_difference({"a": 1, "b": {"c": 2, "d": 3}}, {"a": 1, "b": {"c": 2, "d": 4}}) == ("b.d", 3, 4)
    assert first_difference({"a": 1, "x": 2}, {"a": 1}) == ("x", 2, None)
    assert first_difference({"a": [1, 2]}, {"a": [1, 2]}) is None


def test_content_fingerprint_sees_changed_bytes_of_same_size_files(tmp_path):
    small, big = tmp_path / "small.bin", tmp_path / "big.bin"
    small.write_bytes(bytes(1000))
    big.write_bytes(bytes(3 << 20))
    a, b = content_sha256(small), content_sha256(big)
    small.write_bytes(bytes(999) + b"x")
    with open(big, "r+b") as f:  # a byte inside the last block read
        f.seek((3 << 20) - 10)
        f.write(b"x")
    assert content_sha256(small) != a and content_sha256(big) != b
    shutil.copy(big, tmp_path / "copy.bin")
    assert content_sha256(tmp_path / "copy.bin") == content_sha256(big)


# --- train --resume


@pytest.fixture(scope="module")
def train_helpers():
    sys.path.insert(0, str(Path(__file__).parent / "train"))
    try:
        import train_helpers
    finally:
        sys.path.pop(0)
    return train_helpers


def test_train_resume_refuses_other_data_files(capsys, tmp_path, train_helpers, one_thread):
    h = train_helpers
    train_file = h.write_sample(tmp_path / "train.h5", n=12, seed=1)
    val_file = h.write_sample(tmp_path / "val.h5", n=6, seed=2)
    other = h.write_sample(tmp_path / "other.h5", n=8, seed=3)
    same_size = h.write_sample(tmp_path / "same_size.h5", n=12, seed=7)  # as many entries as train.h5
    assert same_size.stat().st_size != train_file.stat().st_size
    out = tmp_path / "run"
    from larseg.train import train

    kw = {"device": "cpu", "progress": False}
    train([train_file], [val_file], out, h.tiny_model(), h.tiny_training(), stop_after_steps=1, **kw)
    last = out / "last.pt"
    before = _sha(last)
    with pytest.raises(LarsegError) as exc:
        train([other], [val_file], out, resume=True, **kw)
    assert str(exc.value) == (f"{last}: cannot resume: training file 1 was {train_file.resolve()} (entries = 12), "
                              f"not {other.resolve()} (entries = 8); resume with the run's own data files")
    with pytest.raises(LarsegError, match=r"training file 1 was .*train.h5 \(bytes = \d+\), not .*same_size.h5"):
        train([same_size], [val_file], out, resume=True, **kw)
    with pytest.raises(LarsegError, match=r"the run used 1 training file\(s\) \(.*train.h5\), not 2"):
        train([train_file, other], [val_file], out, resume=True, **kw)
    with pytest.raises(LarsegError, match=r"validation file 1 was .*val.h5 \(entries = 6\), not .*other.h5"):
        train([train_file], [other], out, resume=True, **kw)
    # the command line: one line, status 2
    code, _, err = run_cli(capsys, "train", other, "--val", val_file, "-o", out, "--resume", "--device", "cpu")
    assert code == 2 and err.strip().splitlines() == [
        f"larseg: error: {last}: cannot resume: training file 1 was {train_file.resolve()} (entries = 12), "
        f"not {other.resolve()} (entries = 8); resume with the run's own data files"]
    assert _sha(last) == before
    # the same files elsewhere (a copy on another disk) are the same data: the run resumes
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy2(train_file, moved / "t.h5")
    shutil.copy2(val_file, moved / "v.h5")
    result = train([moved / "t.h5"], [moved / "v.h5"], out, resume=True, **kw)
    assert result.finished and result.steps == 6

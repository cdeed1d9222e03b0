"""Checkpoints are untrusted input: loading never runs code, damaged files are refused in one line."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from larseg.config import to_yaml
from larseg.errors import DataFileError
from larseg.model import ModelConfig, build_model
from larseg.model.io import FORMAT, read_checkpoint, save_atomic, weights_sha256

REPO = Path(__file__).resolve().parents[2]
TINY = ModelConfig(name="tiny", stem_filters=4, filters=(4, 8), sparse=True)


class Payload:
    """A pickle that writes a marker file when it is unpickled (what a hostile checkpoint does)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "code ran"))


def _checkpoint(**extra) -> dict:
    torch.manual_seed(0)
    net = build_model(TINY)
    return {"format": FORMAT, "task": "segment", "model": net.state_dict(), "model_config": to_yaml(TINY),
            "provenance": {"larseg_version": "0.1.0"}, **extra}


@pytest.fixture
def good(tmp_path) -> Path:
    return save_atomic(_checkpoint(), tmp_path / "good.pt")


def test_a_checkpoint_records_and_checks_its_weights_hash(good):
    ckpt = read_checkpoint(good)
    assert ckpt["weights_sha256"] == weights_sha256(ckpt["model"])


@pytest.mark.parametrize("where", ["top", "hidden"])
def test_a_pickle_payload_never_runs(tmp_path, where):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    obj = Payload(marker) if where == "top" else _checkpoint(extra=Payload(marker))
    torch.save(obj, path)
    with pytest.raises(DataFileError, match="refused: the checkpoint holds Python objects"):
        read_checkpoint(path)
    assert not marker.exists()


def _larcv3_sample(path: Path) -> Path:
    import numpy as np

    from larseg.data.larcv3 import Event, ImageMeta, Larcv3Writer, sparse_from_dense

    with Larcv3Writer(path) as w:
        for k in range(2):
            planes = []
            for p in range(3):
                im = np.zeros((32, 32), np.float32)
                im[5:20, 10 + k] = 60.0
                planes.append(sparse_from_dense(im, ImageMeta.for_dense(p, 32, 32, (0.3, 0.3)), im != 0))
            labels = [type(planes[0])(pl.meta, pl.index, np.ones(len(pl.index), np.float32)) for pl in planes]
            w.write(Event(1, 0, k, sparse2d={"wire": planes, "segment": labels}))
    return path


def test_commands_refuse_a_poisoned_model_in_one_line(tmp_path):
    """Every command that loads a checkpoint: predict, evaluate, display --model, recalibrate, export,
    train --init-encoder, train --resume (a poisoned last.pt)."""
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.pt"
    torch.save(_checkpoint(extra=Payload(marker)), evil)
    data = _larcv3_sample(tmp_path / "data.h5")
    run = tmp_path / "run"
    run.mkdir()
    torch.save(_checkpoint(extra=Payload(marker)), run / "last.pt")
    train = ["train", str(data), "--val", str(data), "--model", "sparse-cpu", "--training", "sparse-cpu"]
    commands = [
        ["predict", str(evil), str(data), "-o", str(tmp_path / "out.h5")],
        ["evaluate", str(evil), str(data), "-o", str(tmp_path / "eval")],
        ["display", str(data), "-m", str(evil), "-o", str(tmp_path / "d.png")],
        ["recalibrate", str(evil), str(data), "-o", str(tmp_path / "r.pt")],
        ["export", str(evil), "-o", str(tmp_path / "m.onnx")],
        [*train, "-o", str(tmp_path / "new"), "--init-encoder", str(evil)],
        [*train, "-o", str(run), "--resume"],
    ]
    for args in commands:
        proc = subprocess.run([sys.executable, "-m", "larseg", *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, (args[0], proc.stderr[-1500:])
        lines = proc.stderr.strip().splitlines()
        assert lines[-1].startswith("larseg: error:") and "refused" in lines[-1], (args[0], lines[-1])
        assert "Traceback" not in proc.stderr
    assert not marker.exists()


def test_changed_weights_are_refused(tmp_path):
    ckpt = _checkpoint()
    ckpt["weights_sha256"] = weights_sha256(ckpt["model"])
    name = next(iter(ckpt["model"]))
    ckpt["model"][name] = ckpt["model"][name] + 1.0  # a consistent zip, different weights
    torch.save(ckpt, tmp_path / "edited.pt")
    with pytest.raises(DataFileError, match="do not match their recorded sha256"):
        read_checkpoint(tmp_path / "edited.pt")


def test_truncated_and_empty_files(good, tmp_path):
    data = good.read_bytes()
    for n in (0, 10, len(data) // 2, len(data) - 5):
        path = tmp_path / f"cut{n}.pt"
        path.write_bytes(data[:n])
        with pytest.raises(DataFileError):
            read_checkpoint(path)


FLIPS = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=FLIPS)
def test_flipped_bytes_are_refused_or_harmless(good, tmp_path, flips):
    _flipped(good, tmp_path, flips)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=FLIPS)
def test_flipped_bytes_many(good, tmp_path, flips):
    _flipped(good, tmp_path, flips)


def _flipped(good, tmp_path, flips):
    data = bytearray(good.read_bytes())
    for where, bits in flips:
        data[int(where * len(data))] ^= bits
    path = tmp_path / "flipped.pt"
    path.write_bytes(bytes(data))
    reference = torch.load(good, weights_only=True)["model"]
    try:
        ckpt = read_checkpoint(path)
    except DataFileError:
        return
    # accepted: only bytes outside every entry (zip padding, comments) were hit; the weights are intact
    assert set(ckpt["model"]) == set(reference)
    assert all(torch.equal(ckpt["model"][k], reference[k]) for k in reference)


def test_the_zip_crc_is_what_catches_a_flip_in_the_weights(good, tmp_path):
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = next(i for i in z.infolist() if "/data/" in i.filename and i.file_size > 16)
    # the local header is 30 bytes + name + extra; flip one byte in the entry's data
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.file_size // 2] ^= 0x40
    (tmp_path / "flip.pt").write_bytes(bytes(data))
    with pytest.raises(DataFileError, match="CRC-32|not a readable checkpoint"):
        read_checkpoint(tmp_path / "flip.pt")


def test_the_shipped_model_loads_with_weights_only():
    path = REPO / "models" / "larseg-sparse-cpu.pt"
    ckpt = read_checkpoint(path)  # container CRCs, weights_only=True, weights hash
    assert ckpt["weights_sha256"] == weights_sha256(ckpt["model"])
    torch.load(path, weights_only=True)

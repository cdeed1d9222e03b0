"""``larseg evaluate`` and ``larseg display --model`` on LArCV1/2 ROOT and numpy inputs (truth labels or not)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from eval_helpers import ValueModel, expected_value_model_icpf
from format_helpers import write_larcv_root, write_npy, write_npz
from typer.testing import CliRunner

from larseg.cli import app
from larseg.errors import DataFileError
from larseg.eval.evaluate import evaluate

CUT = 60.0
runner = CliRunner()


def _expected_icpf(events, plane=2, threshold=10.0):
    out = []
    for images, labels in events:
        image = np.where(images[plane] >= threshold, images[plane], 0)
        out.append(expected_value_model_icpf(image, np.where(image > 0, labels[plane], 0), CUT))
    return np.array(out)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """Files with truth labels: LArCV1 and LArCV2 ROOT (image2d data + segment) and a plane/label .npz."""
    pytest.importorskip("uproot")
    d = tmp_path_factory.mktemp("labelled")
    return {"larcv1": write_larcv_root(d / "v1.root", 1, seed=10),
            "larcv2": write_larcv_root(d / "v2.root", 2, seed=20),
            "npz": write_npz(d / "ev.npz", seed=30)}


@pytest.mark.parametrize("fmt", ["larcv1", "larcv2", "npz"])
def test_evaluate_files_with_labels(labelled, fmt, tmp_path):
    path, events = labelled[fmt]
    res = evaluate(ValueModel(CUT), [path], tmp_path / "out")
    (sample,) = res.samples
    assert sample.key == path.stem and sample.n_events == 3
    np.testing.assert_allclose(sample.icpf(), _expected_icpf(events))
    ids = [(r["run"], r["subrun"], r["event"]) for r in sample.records]
    assert ids == ([(7, 1, 100 + k) for k in range(3)] if fmt != "npz" else [(3, 0, 50 + k) for k in range(3)])
    assert all(r["primaries"] == [] for r in sample.records)  # no particle table in these formats
    rows = json.loads((tmp_path / "out" / "table1.json").read_text())
    assert rows[0]["icpf_mean"] == pytest.approx(100 * np.nanmean(_expected_icpf(events)), abs=1e-3)


def test_evaluate_command_on_root_and_npz(labelled, tiny_ckpt, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["evaluate", str(tiny_ckpt), str(labelled["larcv1"][0]), str(labelled["npz"][0]),
                            "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["ev", "v1"]
    assert "| v1 | 3 |" in (out / "table1.md").read_text()


def test_evaluate_without_truth_is_one_line_error(shared, tmp_path, labelled):
    pytest.importorskip("uproot")
    v1 = write_larcv_root(tmp_path / "nolabels.root", 1, labels=False)[0]
    npy = write_npy(tmp_path / "ev.npy")[0]
    for path, problem in ((v1, "no truth labels: this LArCV1 ROOT file has no image2d_segment_tree (has: "
                               "image2d_data_tree)"),
                          (npy, "no truth labels: a .npy file holds images only"),
                          (shared / "fixtures" / "larcv2" / "electron.root", "no truth labels: this LArCV2 ROOT")):
        # checked before any file is evaluated, whatever its place in the list
        with pytest.raises(DataFileError) as err:
            evaluate(ValueModel(CUT), [labelled["npz"][0], path], tmp_path / "out")
        assert str(err.value).startswith(f"{path}: {problem}") and "\n" not in str(err.value)
    assert not (tmp_path / "out" / "samples").exists()


def test_evaluate_command_without_truth_exits_2_with_one_line(tiny_ckpt, tmp_path):
    pytest.importorskip("uproot")
    v1 = write_larcv_root(tmp_path / "nolabels.root", 1, labels=False)[0]
    result = subprocess.run([sys.executable, "-m", "larseg", "evaluate", str(tiny_ckpt), str(v1), "-o",
                             str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"larseg: error: {v1}: no truth labels: this LArCV1 ROOT file has no "
                                     "image2d_segment_tree (has: image2d_data_tree)")


def test_display_with_a_model_on_other_formats(labelled, tiny_ckpt, shared, tmp_path):
    for path in (labelled["larcv1"][0], labelled["npz"][0], shared / "fixtures" / "larcv2" / "electron.root"):
        one = tmp_path / f"{path.stem}.png"
        r = runner.invoke(app, ["display", str(path), "--model", str(tiny_ckpt), "-e", "1", "-o", str(one)])
        assert r.exit_code == 0, r.output
        assert one.read_bytes()[:4] == b"\x89PNG"
    worst = tmp_path / "worst.png"
    r = runner.invoke(app, ["display", str(labelled["larcv2"][0]), "-m", str(tiny_ckpt), "--worst", "2",
                            "-o", str(worst)])
    assert r.exit_code == 0, r.output
    assert worst.is_file() and len([v for v in r.output.split("ICPF ")[1:]]) == 2
    r = runner.invoke(app, ["display", str(shared / "fixtures" / "larcv2" / "electron.root"), "-m", str(tiny_ckpt),
                            "--worst", "1", "-o", str(worst)])
    assert isinstance(r.exception, DataFileError) and "no truth labels" in str(r.exception)

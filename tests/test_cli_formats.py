"""Every command that reads event files reads every input format of 'larseg predict'; 'larseg calibrate-gain'.

(evaluate and display --model on these formats: tests/eval/test_formats.py)
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from format_helpers import write_larcv_root, write_npy, write_npz
from typer.testing import CliRunner

from larseg.cli import app
from larseg.errors import DataFileError, LarsegError

runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, shared):
    """One file per format: LArCV2 ROOT (the real fixture, no labels), LArCV1 ROOT with labels, .npz, .npy."""
    pytest.importorskip("uproot")
    d = tmp_path_factory.mktemp("inputs")
    return {"larcv2": shared / "fixtures" / "larcv2" / "electron.root",
            "larcv1": write_larcv_root(d / "v1.root", 1)[0],
            "npz": write_npz(d / "ev.npz")[0],
            "npy": write_npy(d / "ev.npy")[0],
            "larcv3": shared / "fixtures" / "larcv3" / "reference_larcv3.h5"}


@pytest.mark.parametrize("fmt, lines", [
    ("larcv2", ["10 entries (LArCV2)", "  image2d: data", "  not read: particle_mctruth_tree", "  images: data",
                "  entry 0 planes (rows x wires): 0: 256 x 256, 1: 256 x 256, 2: 256 x 256", "  truth labels: none"]),
    ("larcv1", ["3 entries (LArCV1)", "  image2d: data, segment", "  images: data",
                "  entry 0 planes (rows x wires): 0: 40 x 48, 1: 40 x 48, 2: 40 x 48",
                "  truth labels: image2d_segment_tree"]),
    ("npz", ["3 entries (numpy)", "  array: event, label0, label1, label2, plane0, plane1, plane2, run, subrun",
             "  truth labels: label0, label1, label2"]),
    ("npy", ["2 entries (numpy)", "  array: array", "  entry 0 planes (rows x wires): 0: 40 x 48, 1: 40 x 48, "
             "2: 40 x 48", "  truth labels: none"]),
    ("larcv3", ["3 entries (larcv3)", "  sparse2d: segment, wire", "  cluster2d: instance", "  particle: truth",
                "  truth labels: sparse2d segment"]),
])
def test_info_reads_every_format(inputs, fmt, lines):
    r = runner.invoke(app, ["info", str(inputs[fmt])])
    assert r.exit_code == 0, r.output
    out = r.output.splitlines()
    assert out[0] == f"{inputs[fmt]}: {lines[0]}"
    for line in lines[1:]:
        assert line in out, (line, out)


def test_info_errors_are_one_line(inputs, tmp_path):
    r = runner.invoke(app, ["info", str(inputs["larcv2"]), "--producer", "wire"])
    assert isinstance(r.exception, DataFileError)
    assert "no image2d producer 'wire' (has: data)" in str(r.exception)
    bad = tmp_path / "junk.root"
    bad.write_bytes(b"\x00" * 64)
    result = subprocess.run([sys.executable, "-m", "larseg", "info", str(bad)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == f"larseg: error: {bad}: not a ROOT file"


@pytest.mark.parametrize("fmt", ["larcv2", "larcv1", "npz", "npy"])
def test_display_reads_every_format(inputs, fmt, tmp_path):
    out = tmp_path / "pictures"
    r = runner.invoke(app, ["display", str(inputs[fmt]), "-e", "0", "-e", "1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    pngs = sorted(out.glob("*.png"))
    assert [p.name for p in pngs] == [f"{inputs[fmt].stem}-entry0.png", f"{inputs[fmt].stem}-entry1.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    r = runner.invoke(app, ["display", str(inputs[fmt]), "-e", "99", "-o", str(tmp_path / "x.png")])
    assert isinstance(r.exception, DataFileError) and "entry 99 out of range" in str(r.exception)


def test_display_without_truth_draws_the_images_only(inputs):
    from larseg.data.sources import open_input
    from larseg.viz.event_display import draw_planes

    for fmt, columns in (("larcv2", 1), ("larcv1", 3)):
        ev = open_input(inputs[fmt]).read(0)
        fig = draw_planes(ev.planes, title="t", truth=ev.has_labels)
        images = [ax for ax in fig.axes if ax.get_title().endswith(": image")]
        assert len(images) == 3 and len([ax for ax in fig.axes if ax.images]) == 3 * columns
        assert ("no truth labels" in fig._suptitle.get_text()) == (columns == 1)


def test_calibrate_gain_command():
    r = runner.invoke(app, ["calibrate-gain", "--tracks", "4", "--length", "30", "--seed", "1"])
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert lines[0] == "electrons_per_unit = 184.0, row height 0.3342 cm"  # the detector defaults
    assert " peak pixels from 4 isotropic straight 2.12 MeV/cm tracks of 30 cm" in lines[1]
    assert lines[2].startswith("collection-plane MIP peak-pixel mode = ")
    # the same numbers as the function, and a changed gain moves the mode
    from larseg.detector.calibration import measure_gain

    want = measure_gain(n_tracks=4, length_cm=30.0, seed=1)
    assert lines == want.lines()
    r = runner.invoke(app, ["calibrate-gain", "-n", "4", "--length", "30", "--seed", "1",
                            "--set", "detector.response.electrons_per_unit=92"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0].startswith("electrons_per_unit = 92")
    higher = float(r.output.splitlines()[2].split("= ")[1].split()[0])
    assert higher > want.mode * 1.5


@pytest.mark.parametrize("args, problem", [
    (["--set", "detector.nope=1"], "unknown setting 'nope'"),
    (["--set", "response.electrons_per_unit"], "expected key=value"),
    (["--length", "2000"], "tracks of 2000.0 cm do not fit in the active volume"),
    (["--sample", "nope"], "no simulation preset 'nope'"),
])
def test_calibrate_gain_errors(args, problem):
    r = runner.invoke(app, ["calibrate-gain", "-n", "1", *args])
    assert isinstance(r.exception, LarsegError), r.output
    assert problem in str(r.exception) and "\n" not in str(r.exception)


def test_calibration_constants_have_one_home():
    from larseg.detector import calibration
    from larseg.physics import constants

    assert constants.LAR_MIP_DEDX == 2.12 and constants.MUON_MIN_DEDX == 2.105
    assert calibration.LAR_MIP_DEDX is constants.LAR_MIP_DEDX
    assert not hasattr(calibration, "MIP_DEDX_MEV_PER_CM") and not hasattr(calibration, "main")
    assert not hasattr(constants, "MIP_DEDX")
    deposits = calibration.straight_mip((0, 0, 0), (0, 0, 1), 10.0)
    assert float(deposits.de.sum()) == pytest.approx(21.2)

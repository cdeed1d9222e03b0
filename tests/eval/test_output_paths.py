"""Writing commands check their output path first: one line, nothing overwritten that is not theirs."""

from __future__ import annotations

import numpy as np
from eval_helpers import write_checkpoint, write_pulse_file
from typer.testing import CliRunner

from larseg.cli import app
from larseg.errors import DataFileError


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_an_output_directory_that_is_a_file(tmp_path):
    data = write_pulse_file(tmp_path / "d.h5", [np.full(10, 60.0)])
    ckpt = write_checkpoint(tmp_path / "m.pt")
    taken = tmp_path / "taken"
    taken.write_text("mine")
    for args in (("evaluate", ckpt, data, "-o", taken), ("validate", "-g", "showers", "--quick", "-o", taken)):
        result = _run(*args)
        assert isinstance(result.exception, DataFileError), result.output
        assert "exists and is not a directory" in str(result.exception)
    assert taken.read_text() == "mine"


def test_figures_need_a_figure_suffix_and_get_their_directory(tmp_path):
    data = write_pulse_file(tmp_path / "d.h5", [np.full(10, 60.0)])
    result = _run("display", data, "-o", tmp_path / "new" / "sub" / "x.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "sub" / "x.png").stat().st_size > 1000
    import matplotlib

    from larseg.atomic import save_figure

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    ckpt = tmp_path / "last.pt"
    ckpt.write_bytes(b"a checkpoint")
    try:
        save_figure(fig, ckpt)
    except DataFileError as exc:
        assert "figure file must end in" in str(exc)
    else:
        raise AssertionError("a .pt figure was written")
    finally:
        plt.close(fig)
    assert ckpt.read_bytes() == b"a checkpoint"


def test_train_into_a_file_is_one_line(tmp_path):
    data = write_pulse_file(tmp_path / "d.h5", [np.full(10, 60.0)] * 2)
    taken = tmp_path / "run"
    taken.write_text("mine")
    result = _run("train", data, "--val", data, "-o", taken, "--model", "sparse-cpu", "--training", "sparse-cpu",
                  "--set", "max_steps=1")
    assert isinstance(result.exception, DataFileError) and "exists and is not a directory" in str(result.exception)
    assert taken.read_text() == "mine"


def test_outputs_that_would_replace_an_input_or_the_wrong_kind(tmp_path):
    data = write_pulse_file(tmp_path / "d.h5", [np.full(10, 60.0)])
    before = data.read_bytes()
    result = _run("merge", data, data, "-o", data, "--overwrite")
    assert isinstance(result.exception, DataFileError) and "is also an input" in str(result.exception)
    assert data.read_bytes() == before
    ckpt = write_checkpoint(tmp_path / "m.pt")
    result = _run("export", ckpt, "-o", tmp_path / "m.pt", "--overwrite")
    assert "must end in .onnx" in str(result.exception)


def test_train_removes_temporaries_left_by_a_killed_save(tmp_path):
    data = write_pulse_file(tmp_path / "d.h5", [np.full(10, 60.0)] * 2)
    run = tmp_path / "run"
    run.mkdir()
    stale = run / ".last.pt.abc123.tmp"
    stale.write_bytes(b"x" * 1000)
    result = _run("train", data, "--val", data, "-o", run, "--model", "sparse-cpu", "--training", "sparse-cpu",
                  "--set", "max_steps=1", "--set", "num_workers=0", "--set", "augment.crop=0")
    assert result.exit_code == 0, result.output
    assert not stale.exists() and (run / "last.pt").is_file()

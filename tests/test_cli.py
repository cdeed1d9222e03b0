"""The command line: help for every command, one-line errors for user mistakes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from larseg.cli import app

runner = CliRunner()


def _commands(typer_app, prefix=()):
    import typer.main

    group = typer.main.get_command(typer_app)
    out = []

    def walk(cmd, path):
        sub = getattr(cmd, "commands", None)
        if sub:
            for name, c in sub.items():
                walk(c, path + (name,))
        else:
            out.append(path)

    walk(group, prefix)
    return out


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("config", "info", "simulate", "merge", "display"):
        assert name in result.output


def test_every_command_has_help_text():
    commands = _commands(app)
    assert len(commands) >= 6
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage" in result.output
        # a sentence of description beyond the usage line
        assert len(result.output.strip().splitlines()) > 3, path


def test_config_list_and_show():
    result = runner.invoke(app, ["config", "list"])
    assert result.exit_code == 0
    assert "simulation:" in result.output and "1e1p" in result.output
    result = runner.invoke(app, ["config", "show", "1mu1p-le"])
    assert result.exit_code == 0
    assert "low: 85.0" in result.output and "detector:" in result.output


def _run(*args):
    return subprocess.run([sys.executable, "-m", "larseg", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args, expected",
    [
        (("info", "/nonexistent/file.h5"), "/nonexistent/file.h5: no such file"),
        (("config", "show", "nope"), "no preset 'nope'"),
        (("simulate", "mpv", "-n", "1", "-o", "x.h5", "--shard", "3/2"), "--shard '3/2': need 0 <= i < n"),
        (("simulate", "mpv", "-n", "1", "-o", "x.h5", "--set", "detector.nope=1"), "unknown setting 'detector.nope'"),
    ],
)
def test_user_errors_are_one_line(args, expected, tmp_path):
    result = _run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("larseg: error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_not_hdf5_is_one_line(tmp_path):
    bad = tmp_path / "junk.h5"
    bad.write_bytes(b"\x00" * 100)
    result = _run("info", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"larseg: error: {bad}: not an HDF5 file"

"""Every setting is checked: each probe of issue 13 ends in one line naming the setting, exit status 2.

The CLI probes run ``larseg.cli.main`` in this process (the code path of the ``larseg``
command: a :class:`LarsegError` is printed as ``larseg: error: ...`` and exits with 2);
the ones that could run code or crash the interpreter run ``python -m larseg``.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import larseg.config.base as base
import larseg.simulation
from larseg import config as cfg
from larseg.cli import main
from larseg.cli.simulate_cmd import parse_settings
from larseg.config.base import SettingError
from larseg.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
PRESETS = REPO / "src" / "larseg" / "config" / "presets"


def cli(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """Run ``larseg ARGS`` in this process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["larseg", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(capsys, monkeypatch, *args: str) -> str:
    """The single ``larseg: error:`` line of a refused command (asserting status 2 and no traceback)."""
    code, out, err = cli(capsys, monkeypatch, *args)
    lines = err.strip().splitlines()
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("larseg: error: "), err
    assert "Traceback" not in err and out == ""
    return lines[0]


@pytest.fixture
def no_simulation(monkeypatch):
    """Replace simulate_file by a recorder: the command's checks run, no event is simulated."""
    calls = []

    def fake(config, n, output, **kw):
        calls.append({"config": config, "n": n, **kw})

        class Result:
            n_entries, path, seconds, rate = n, output, 0.0, 0.0

        return Result()

    monkeypatch.setattr(larseg.simulation, "simulate_file", fake)
    return calls


@pytest.fixture(scope="module")
def one_event_file(tmp_path_factory):
    """A real sample file of one simulated event (training reads its files' identity before its settings)."""
    path = tmp_path_factory.mktemp("one") / "one.h5"
    larseg.simulation.simulate_file(cfg.load_preset("simulation", "single"), 1, path, seed=1)
    return path


# --- --set values, config files and presets


def test_yaml_tags_in_set_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "PWNED"
    for value in ("!!python/object:os.system x", f'!!python/object/apply:os.system ["touch {marker}"]'):
        result = subprocess.run([sys.executable, "-m", "larseg", "simulate", "mpv", "-n", "1", "-o",
                                 str(tmp_path / "x.h5"), "--set", f"detector.dead_wires.seed={value}"],
                                capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("larseg: error: --set detector.dead_wires.seed: "), lines
        assert "YAML tags" in lines[0] and "Traceback" not in result.stderr
    assert not marker.exists()
    assert not (tmp_path / "x.h5").exists()


def test_malformed_set_value(capsys, monkeypatch):
    line = one_line_error(capsys, monkeypatch, "config", "show", "training/cpu", "--set", "lr_milestones=[1,")
    assert line.startswith("larseg: error: --set lr_milestones: ")


def test_empty_config_file(capsys, monkeypatch, tmp_path, no_simulation):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    line = one_line_error(capsys, monkeypatch, "simulate", str(empty), "-n", "1", "-o", str(tmp_path / "x.h5"))
    assert f"{empty}: the config is empty" in line
    empty.write_text("# nothing but a comment\n")
    assert "the config is empty" in one_line_error(capsys, monkeypatch, "simulate", str(empty), "-n", "1", "-o",
                                                   str(tmp_path / "x.h5"))
    assert not no_simulation


@pytest.mark.parametrize("setting, value, expected", [
    ("generator.mixes", "[]", "generator.mixes: an mpv generator needs at least one mix"),
    ("generator.mixes[0].multiplicity", "[4, 1]",
     "generator.mixes[0].multiplicity: must be a range [low, high] with low <= high, got [4, 1]"),
    ("generator.mixes[1].others[0].pdg", "[11, 999]", "generator.mixes[1].others[0].pdg[1]: unknown PDG code 999"),
    ("generator.mixes[0].others[0].low", "2000.0", "generator.mixes[0].others[0].low: must not be larger than high"),
    ("detector.response.gain_scale", ".nan", "detector.response.gain_scale: expected a finite number, got nan"),
    ("detector.response.gain_scale", ".inf", "detector.response.gain_scale: expected a finite number, got inf"),
    ("detector.response.gain_scale", "-0.5", "detector.response.gain_scale: must be in (0, 100]"),
    ("detector.response.noise_rms", "[3.0, -1.0, 2.0]", "detector.response.noise_rms[1]: must be >= 0"),
    ("detector.dead_wires.fraction", "[0.1, 0.1, 1.5]", "detector.dead_wires.fraction[2]: must be in [0, 1)"),
    ("physics.mu_minus_capture_fraction", "1.5", "physics.mu_minus_capture_fraction: must be in [0, 1]"),
    ("generator.cosmics.time_range_ns", "[5.0, -5.0]", "generator.cosmics.time_range_ns: must be a range"),
    ("generator.vertex_margin", "[200.0, 20.0, 20.0]", "generator.vertex_margin: 200.0 cm in x leaves no room"),
    ("generator.mixes[5].weight", "1.0", "unknown setting 'generator.mixes[5].weight' (the list has 2 elements)"),
])
def test_simulation_settings(capsys, monkeypatch, tmp_path, no_simulation, setting, value, expected):
    line = one_line_error(capsys, monkeypatch, "simulate", "mpv", "-n", "2", "-o", str(tmp_path / "x.h5"),
                          "--set", f"{setting}={value}")
    assert expected in line
    assert not no_simulation


def test_reversed_multiplicity_in_a_config_file(capsys, monkeypatch, tmp_path, no_simulation):
    text = (PRESETS / "simulation" / "1e1p.yaml").read_text().replace("multiplicity: [2, 2]", "multiplicity: [4, 1]")
    assert "multiplicity: [4, 1]" in text
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    line = one_line_error(capsys, monkeypatch, "simulate", str(path), "-n", "1", "-o", str(tmp_path / "x.h5"))
    assert f"{path}: generator.mixes[0].multiplicity: must be a range" in line


@pytest.mark.parametrize("setting, value, expected", [
    ("lr", ".nan", "lr: expected a finite number, got nan"),
    ("lr", "-1e-3", "lr: must be in (0, 10]"),
    ("max_steps", "-5", "max_steps: must be in [0, "),
    ("num_workers", "-1", "num_workers: must be in [0, "),
    ("threads", "-4", "threads: must be in [0, "),
    ("augment.crop", "100000", "augment.crop: must be in [0, 3456], got 100000 (0 = whole images; a crop beyond "
                               "the widest detector plane, 3456 wires, is only padding)"),
    ("seed", str(2**70), f"seed: {2**70} does not fit in a 64-bit integer"),
    ("model.input_scale", ".inf", "model.input_scale: expected a finite number"),
])
def test_training_settings(capsys, monkeypatch, tmp_path, one_event_file, setting, value, expected):
    line = one_line_error(capsys, monkeypatch, "train", str(one_event_file), "--val", str(one_event_file),
                          "-o", str(tmp_path / "run"), "--training", "cpu", "--model", "cpu", "--device", "cpu",
                          "--set", f"{setting}={value}")
    assert expected.removeprefix("model.") in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, expected", [
    (("-n", str(2**70)), f"-n/--events: must be in [1, 1000000000], got {2**70}"),
    (("-n", "0"), "-n/--events: must be in [1, 1000000000], got 0"),
    (("-n", "2", "--seed", str(2**70)), f"--seed: must be in [0, 2**63), got {2**70}"),
    (("-n", "2", "--seed", str(2**63)), "--seed: must be in [0, 2**63)"),
    (("-n", "2", "--seed", "-1"), "--seed: must be in [0, 2**63), got -1"),
    (("-n", "2", "--workers", "0"), "--workers: must be in [1, "),
])
def test_event_count_and_seed_bounds(capsys, monkeypatch, tmp_path, no_simulation, args, expected):
    line = one_line_error(capsys, monkeypatch, "simulate", "mpv", *args, "-o", str(tmp_path / "x.h5"))
    assert expected in line
    assert not no_simulation


def test_largest_seed_is_accepted(capsys, monkeypatch, tmp_path, no_simulation):
    code, _, err = cli(capsys, monkeypatch, "simulate", "mpv", "-n", "1", "--seed", str(2**63 - 1), "-o",
                       str(tmp_path / "x.h5"))
    assert code == 0, err
    assert no_simulation[0]["seed"] == 2**63 - 1


def test_evaluate_bad_device(capsys, monkeypatch, tmp_path):
    line = one_line_error(capsys, monkeypatch, "evaluate", str(REPO / "models" / "larseg-sparse-cpu.pt"),
                          str(tmp_path / "none.h5"), "-o", str(tmp_path / "ev"), "--device", "bogus")
    assert line == "larseg: error: --device bogus: expected cpu, cuda, cuda:N or auto"


# --- workers


def test_simulate_workers_are_capped_by_events_and_cpus(capsys, monkeypatch, tmp_path, no_simulation):
    monkeypatch.setattr(base, "available_cpus", lambda: 4)
    code, _, err = cli(capsys, monkeypatch, "simulate", "mpv", "-n", "2", "--workers", "50", "-o",
                       str(tmp_path / "x.h5"))
    assert code == 0, err
    assert no_simulation[-1]["workers"] == 2
    assert err.strip() == "larseg: note: --workers 50 lowered to 2 (2 events, 4 CPU cores)"
    code, _, err = cli(capsys, monkeypatch, "simulate", "mpv", "-n", "100", "--workers", "50", "--shard", "1/4",
                       "-o", str(tmp_path / "x.h5"))
    assert no_simulation[-1]["workers"] == 4
    assert err.strip() == "larseg: note: --workers 50 lowered to 4 (25 events, 4 CPU cores)"
    code, _, err = cli(capsys, monkeypatch, "simulate", "mpv", "-n", "100", "--workers", "3", "-o",
                       str(tmp_path / "x.h5"))
    assert no_simulation[-1]["workers"] == 3 and err == ""


def test_simulate_two_events_with_many_workers(capsys, monkeypatch, tmp_path):
    """The real thing, once: -n 2 --workers 50 starts at most 2 workers and writes the 2 events."""
    code, out, err = cli(capsys, monkeypatch, "simulate", "single", "-n", "2", "--workers", "50", "-o",
                         str(tmp_path / "x.h5"))
    assert code == 0, err
    assert "wrote 2 events" in out
    assert "larseg: note: --workers 50 lowered to " in err


def test_training_workers_and_threads_are_capped(capsys, monkeypatch):
    monkeypatch.setattr(base, "available_cpus", lambda: 2)
    code, out, err = cli(capsys, monkeypatch, "config", "show", "training/cpu", "--set", "num_workers=10000",
                         "--set", "threads=64")
    assert code == 0, err
    assert "\nnum_workers: 8\n" in out and "\nthreads: 2\n" in out
    assert err.strip().splitlines() == ["larseg: note: num_workers 10000 lowered to 8 (2 CPU cores x 4)",
                                        "larseg: note: threads 64 lowered to 2 (2 CPU cores)"]
    code, out, err = cli(capsys, monkeypatch, "config", "show", "training/cpu", "--set", "num_workers=8")
    assert code == 0 and "\nnum_workers: 8\n" in out and err == ""


# --- preset names and paths


def test_preset_names_cannot_escape_the_presets_directory(capsys, monkeypatch, tmp_path, no_simulation):
    outside = tmp_path / "x.yaml"
    outside.write_text("name: outside\ndescription: read from outside the presets\n")
    up = "../" * (len(PRESETS.joinpath("simulation").resolve().parts) + 2)
    name = f"{up}{str(outside.with_suffix('')).lstrip('/')}"
    for args in (("config", "show", f"simulation/{name}"),
                 ("simulate", name, "-n", "1", "-o", str(tmp_path / "x.h5")),
                 ("simulate", "simulation/mpv", "-n", "1", "-o", str(tmp_path / "x.h5")),
                 ("train", "a.h5", "--val", "b.h5", "-o", str(tmp_path / "run"), "--model", f"../model/{name}")):
        line = one_line_error(capsys, monkeypatch, *args)
        assert "not a preset name" in line and "without '/' or '..'" in line, line
    with pytest.raises(ConfigError, match="not a preset name"):
        cfg.load_preset("simulation", "../simulation/mpv")
    with pytest.raises(ConfigError, match="not a preset name"):
        cfg.find_preset("simulation/mpv/../mpv")
    assert not no_simulation


def test_explicit_config_paths(capsys, monkeypatch, tmp_path, no_simulation):
    mine = tmp_path / "mine.yml"
    mine.write_text((PRESETS / "simulation" / "single.yaml").read_text())
    code, _, err = cli(capsys, monkeypatch, "simulate", str(mine), "-n", "1", "-o", str(tmp_path / "x.h5"))
    assert code == 0, err
    assert no_simulation[0]["config"].name == cfg.load_preset("simulation", "single").name
    line = one_line_error(capsys, monkeypatch, "simulate", str(tmp_path / "missing.yaml"), "-n", "1", "-o", "x.h5")
    assert line == f"larseg: error: {tmp_path / 'missing.yaml'}: no such config file"
    txt = tmp_path / "mine.txt"
    txt.write_text(mine.read_text())
    assert "not a preset name" in one_line_error(capsys, monkeypatch, "simulate", str(txt), "-n", "1", "-o", "x.h5")


def test_every_shipped_preset_shows(capsys, monkeypatch):
    code, out, _ = cli(capsys, monkeypatch, "config", "list")
    assert code == 0
    for line in out.strip().splitlines():
        kind, _, names = line.partition(": ")
        for name in names.split(", "):
            code, shown, err = cli(capsys, monkeypatch, "config", "show", f"{kind}/{name}")
            assert code == 0 and shown.startswith("name: "), (kind, name, err)


# --- the checks in Python


def test_direct_construction_raises_value_error_naming_the_setting():
    from larseg.detector.config import ResponseConfig
    from larseg.physics.generator_config import MPVMix, ParticleSpec
    from larseg.train.config import TrainConfig

    with pytest.raises(ValueError, match=r"^gain_scale: must be a finite number, got nan"):
        ResponseConfig(gain_scale=math.nan)
    with pytest.raises(SettingError, match=r"^max_steps: must be in \[0, "):
        TrainConfig(max_steps=-5)
    spec = ParticleSpec(pdg=[13], low=10.0, high=20.0)
    with pytest.raises(SettingError, match=r"^multiplicity: must be a range"):
        MPVMix(multiplicity=(4, 1), others=[spec])
    with pytest.raises(SettingError, match=r"^pdg\[0\]: unknown PDG code 1000180400"):
        ParticleSpec(pdg=[1000180400], low=10.0, high=20.0)


def test_primary_pdg_codes_are_those_the_transport_knows():
    import importlib

    from larseg.physics.generator_config import PRIMARY_PDG

    # the module (larseg.physics re-exports a function of the same name)
    assert PRIMARY_PDG == set(importlib.import_module("larseg.physics.transport")._MASS)


def test_exponent_without_dot_is_a_number():
    assert cfg.replace(cfg.load_preset("training", "cpu"), **parse_settings(["lr=1e-4"])).lr == 1e-4


# --- property: random values are accepted in range or refused in one line

_CPUS = base.available_cpus()
NUMERIC = {
    ("training", "cpu"): {
        "lr": lambda v: 0 < v <= 10,
        "momentum": lambda v: 0 <= v < 1,
        "max_steps": lambda v: isinstance(v, int) and v >= 0,
        "num_workers": lambda v: isinstance(v, int) and 0 <= v <= 4 * _CPUS,
        "threads": lambda v: isinstance(v, int) and 0 <= v <= _CPUS,
        "augment.crop": lambda v: isinstance(v, int) and 0 <= v <= 3456,
        "seed": lambda v: isinstance(v, int) and 0 <= v < 2**63,
    },
    ("simulation", "mpv"): {
        "detector.response.gain_scale": lambda v: 0 < v <= 100,
        "detector.readout.n_rows": lambda v: isinstance(v, int) and 1 <= v <= 16384,
        "physics.max_step": lambda v: v > 0,
        "generator.cosmics.mean": lambda v: 0 <= v <= 1000,
        "generator.mixes[0].others[0].high": lambda v: 50.0 <= v <= 1e5,
    },
    ("model", "cpu"): {"input_scale": lambda v: v > 0},
}
CASES = [(kind, name, key) for (kind, name), keys in NUMERIC.items() for key in keys]
_LOADED = {}

_special = st.sampled_from([".nan", ".NaN", "-.nan", ".inf", "-.inf", "+.inf", "1e400", "-1e400", "nan", "inf",
                            "-0", "-1", "0", "1", "0.5", str(2**63), str(2**63 - 1), str(-(2**63) - 1), str(2**70),
                            "1e-300", "~", "[]", "[1, 2]", "'3'", "true"])
_values = st.one_of(
    _special,
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: {"nan": ".nan", "inf": ".inf",
                                                                  "-inf": "-.inf"}.get(repr(f), repr(f))),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), text=_values)
def test_random_numeric_values_are_in_range_or_refused_in_one_line(case, text):
    kind, name, key = case
    if (kind, name) not in _LOADED:
        _LOADED[kind, name] = cfg.load_preset(kind, name)
    try:
        changed = cfg.replace(_LOADED[kind, name], **parse_settings([f"{key}={text}"]))
    except ConfigError as exc:
        message = str(exc)
        # the setting, or (for a conflict such as min_step > max_step) a sibling it conflicts with
        named = message.startswith(key) or ("." in key and message.startswith(key.rsplit(".", 1)[0] + "."))
        assert "\n" not in message and named, message
        return
    value = changed
    for part in key.replace("[", ".").replace("]", "").split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    assert isinstance(value, (int, float)) and not isinstance(value, bool), value
    assert math.isfinite(value) and NUMERIC[kind, name][key](value), (key, text, value)
    assert cfg.from_yaml(type(changed), cfg.to_yaml(changed)) == changed

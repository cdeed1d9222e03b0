"""The peak-position ratio of ``larseg study peaks`` on inputs with a known scale."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eval_helpers import write_pulse_file

from larseg.errors import LarsegError
from larseg.eval.peaks import compare_peaks, fit_scale, peak_position, peaks_study


def _landau_like(rng, n, loc=60.0, width=6.0):
    return loc + width * rng.gumbel(size=n)  # a right-skewed peak, like MIP peak pixels


def test_peak_position_of_a_known_mode():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(73.0, 3.0, 20000), rng.uniform(10, 200, 4000)])
    assert peak_position(values, 0, 200, 2.0) == pytest.approx(73.0, abs=1.0)
    with pytest.raises(LarsegError, match="no peak values"):
        peak_position([500.0], 0, 200)


@pytest.mark.parametrize("scale", [0.78, 1.25])
def test_ratio_and_fitted_scale_recover_a_known_gain(scale):
    rng = np.random.default_rng(2)
    a = _landau_like(rng, 30000)
    b = scale * _landau_like(rng, 30000)
    res = compare_peaks(a, b, 0, 300, 2.0)
    assert res["ratio"] == pytest.approx(scale, rel=0.04)
    assert res["fit_scale"] == pytest.approx(scale, rel=0.02)
    assert fit_scale(a, a, 20, 150) == pytest.approx(1.0, abs=0.01)


def test_peaks_study_on_files_with_known_pulses(tmp_path):
    rng = np.random.default_rng(3)
    a = [_landau_like(rng, 64) for _ in range(60)]
    b = [0.75 * _landau_like(rng, 64) for _ in range(60)]
    fa = write_pulse_file(tmp_path / "a.h5", a, sample="nominal")
    fb = write_pulse_file(tmp_path / "b.h5", b, sample="datalike")
    res = peaks_study(fa, fb, tmp_path / "out", bin_width=2.0)
    assert res["n_peaks_a"] == 60 * 64 and res["n_peaks_b"] == 60 * 64  # one peak per column
    assert res["ratio"] == pytest.approx(0.75, rel=0.06)
    assert res["fit_scale"] == pytest.approx(0.75, rel=0.03)
    saved = json.loads((tmp_path / "out" / "peaks.json").read_text())
    assert saved["sample_a"] == "nominal" and saved["events_b"] == 60
    assert (tmp_path / "out" / "fig9_peaks.png").is_file()
    track = peaks_study(fa, fb, tmp_path / "track", track_only=True, max_events=10)
    assert track["n_peaks_a"] == 640 and track["events_a"] == 10


def test_datalike_preset_shifts_the_peaks_by_its_gain(sample_michel, tmp_path):
    from larseg.config import load_preset
    from larseg.simulation import simulate_file

    config = load_preset("simulation", "michel-datalike")
    nominal = load_preset("simulation", "michel")
    assert config.generator == nominal.generator and config.physics == nominal.physics
    assert config.detector.response.gain_scale == 0.78 and max(config.detector.dead_wires.fraction) <= 0.2
    assert config.detector.response.noise_rms == tuple(1.5 * v for v in nominal.detector.response.noise_rms)
    assert load_preset("simulation", "ccpi0-datalike").detector == config.detector
    # the same events (same seed) through the data-like detector: peaks lower by the gain
    datalike = simulate_file(config, 2, tmp_path / "datalike.h5", seed=3).path
    res = peaks_study(sample_michel, datalike, tmp_path / "out")
    assert res["sample_a"] == "michel" and res["sample_b"] == "michel-datalike"
    assert res["fit_scale"] == pytest.approx(0.78, abs=0.04)
    assert 0.65 < res["ratio"] < 0.9

"""Label semantics: the track / shower charge split per pixel and ``larseg study labels``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from larseg.cli import app
from larseg.config import load_preset
from larseg.data.larcv3 import Larcv3File, Larcv3Writer
from larseg.detector import DetectorConfig, simulate_planes
from larseg.errors import DataFileError, LarsegError
from larseg.eval.labels import label_counts, labelled_charges, labels_study, pixel_charges
from larseg.physics import transport
from larseg.physics.truth import PARTICLE_DTYPE, Deposits, is_shower_pdg


@pytest.fixture(scope="module")
def mpv_file(tmp_path_factory):
    from larseg.simulation import simulate_file

    path = tmp_path_factory.mktemp("labels") / "mpv.h5"
    simulate_file(load_preset("simulation", "mpv"), 3, path, seed=1)
    return path


def _event_split(primaries, seed: int):
    event = transport(primaries, np.random.default_rng(seed))
    truth = simulate_planes(event.deposits, event.particles, event.vertex, DetectorConfig(),
                            np.random.default_rng(seed))
    split = labelled_charges(truth, pixel_charges(event.deposits, event.particles))
    return event, truth, split


def test_muon_with_delta_rays_has_mixed_pixels():
    event, truth, split = _event_split([(13, 100, 0, 300, 0, 300, 100, 400)], seed=2)
    processes = set(event.particles["process"][is_shower_pdg(event.particles["pdg"])])
    assert b"muIoni" in processes  # delta rays
    for t, ch in zip(truth, split):
        assert len(ch) == len(t) > 0
        np.testing.assert_array_equal(ch.label, t.label)  # the recomputed rule is the detector's
        assert ((ch.track > 0) | (ch.shower > 0)).all()
        counts = label_counts(ch)
        assert counts["all"]["mixed"] > 0 and counts["all"]["ambiguous"] > 0
        assert counts["all"]["pixels"] == counts["track"]["pixels"] + counts["shower"]["pixels"]
        assert counts["all"]["ambiguous"] <= counts["all"]["mixed"]
        assert counts["all"]["one_primary"] == counts["all"]["mixed"]  # one primary: the muon
        # a pixel labelled shower holds shower charge, one labelled track holds track charge
        assert (ch.shower[ch.label == 2] > 0).all() and (ch.track[ch.label == 1] > 0).all()


def test_a_proton_alone_has_no_mixed_pixels():
    event, truth, split = _event_split([(2212, 100, 0, 300, 0, 300, 100, 400)], seed=0)
    assert not is_shower_pdg(event.particles["pdg"]).any()
    for ch in split:
        assert len(ch) > 0 and (ch.label == 1).all() and (ch.shower == 0).all()
        assert label_counts(ch)["all"] == {"pixels": len(ch), "mixed": 0, "one_primary": 0, "ambiguous": 0,
                                           "flipped": 0}


def test_the_largest_particle_decides_not_the_class_sum():
    """Two track particles with 30% each and one electron with 40% at one point: label shower,
    though track holds more charge; every pixel is mixed (of three primaries), ambiguous and 'flipped'."""
    particles = np.zeros(3, dtype=PARTICLE_DTYPE)
    particles["track_id"] = particles["ancestor_id"] = np.arange(3)
    particles["parent_id"] = -1
    particles["pdg"] = (13, 2212, 11)
    de = np.array([0.3, 0.3, 0.4])
    deposits = Deposits(np.full(3, 100.0), np.zeros(3), np.full(3, 300.0), np.zeros(3), de, de / 2.0,
                        np.arange(3, dtype=np.int32))  # the same dE/dx: the same recombination
    config = DetectorConfig()
    truth = simulate_planes(deposits, particles, (100, 0, 300), config, np.random.default_rng(0))
    for ch in labelled_charges(truth, pixel_charges(deposits, particles, config)):
        assert len(ch) > 0 and (ch.label == 2).all()
        np.testing.assert_allclose(ch.minority_fraction, 0.4)
        counts = label_counts(ch)["all"]
        assert counts == {"pixels": len(ch), "mixed": len(ch), "one_primary": 0, "ambiguous": len(ch),
                          "flipped": len(ch)}
        assert not ch.one_primary.any()
        assert label_counts(ch, ambiguous=0.45)["all"]["ambiguous"] == 0
    particles["ancestor_id"][2] = 0  # the electron now descends from the muon: a delta ray
    for ch in labelled_charges(truth, pixel_charges(deposits, particles, config)):
        assert ch.one_primary.all()


def test_study_labels_command(mpv_file, tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["study", "labels", str(mpv_file), "-o", str(out), "--plane", "1", "--plane", "2"])
    assert r.exit_code == 0, r.output
    assert "| Y | all |" in r.output and "| V | shower |" in r.output
    saved = json.loads((out / "labels.json").read_text())
    assert saved["n_events"] == 3 and saved["planes"] == [1, 2]
    assert (out / "labels.md").read_text() == saved["markdown"]
    for row in saved["rows"]:
        for key in ("mixed_share", "ambiguous_share", "flipped_share"):
            assert row[key] is None or 0.0 <= row[key] <= 1.0
    y = {row["class"]: row for row in saved["rows"] if row["plane"] == 2}
    assert y["all"]["pixels"] == y["track"]["pixels"] + y["shower"]["pixels"] > 0
    assert 0.0 < y["all"]["mixed_share"] < 1.0
    assert y["all"]["ambiguous"] <= y["all"]["mixed"] and y["all"]["one_primary"] <= y["all"]["mixed"]
    # the per-event counts add up to the table's, and -n limits the events
    assert sum(e["Y"]["pixels"] for e in saved["events"]) == y["all"]["pixels"]
    assert labels_study(mpv_file, max_events=1)["n_events"] == 1


def test_study_labels_bad_input(mpv_file, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["study", "labels", str(tmp_path / "missing.h5")])
    assert isinstance(r.exception, DataFileError) and "no such file" in str(r.exception)
    not_hdf5 = tmp_path / "text.h5"
    not_hdf5.write_text("hello\n")
    r = runner.invoke(app, ["study", "labels", str(not_hdf5)])
    assert isinstance(r.exception, DataFileError)
    # a larcv file without larseg's config cannot be re-simulated
    source = Larcv3File(mpv_file)
    bare = tmp_path / "bare.h5"
    with Larcv3Writer(bare, {"larseg_sample": "mpv"}) as w:
        w.write(source.read(0))
    with pytest.raises(DataFileError, match="no larseg config"):
        labels_study(bare)
    # a config that does not reproduce the stored labels
    config = yaml.safe_load(source.metadata["larseg_config"])
    config["detector"]["response"]["threshold"] = 30.0
    changed = tmp_path / "changed.h5"
    with Larcv3Writer(changed, {**source.metadata, "larseg_config": yaml.safe_dump(config)}) as w:
        w.write(source.read(0))
    with pytest.raises(DataFileError, match="does not give its stored labels"):
        labels_study(changed)
    with pytest.raises(LarsegError):
        labels_study(mpv_file, ambiguous=0.7)

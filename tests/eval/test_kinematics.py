"""Truth kinematics of the per-event records and the binned means of ``larseg study kinematics``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from larseg.data.larcv3 import INVALID_U4, LARCV_PARTICLE_DTYPE
from larseg.errors import LarsegError
from larseg.eval.io import write_json, write_jsonl
from larseg.eval.kinematics import auto_edges, binned_mean, kinematics_study
from larseg.eval.truth import event_kinematics, primary_ke


def test_binned_mean_by_hand():
    x = [0.5, 1.5, 1.6, 2.0, 5.0, np.nan, 0.2]
    y = [1.0, 2.0, 4.0, 6.0, 100.0, 1.0, np.nan]
    b = binned_mean(x, y, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(b["counts"], [1, 3])  # 2.0 falls in the last (closed) bin; 5.0 is outside
    np.testing.assert_allclose(b["mean"], [1.0, 4.0])
    assert math.isnan(b["err"][0])  # one event: no error
    assert b["err"][1] == pytest.approx(2.0 / math.sqrt(3))  # std(2, 4, 6; ddof=1) = 2
    np.testing.assert_allclose(b["centers"], [0.5, 1.5])
    empty = binned_mean([], [], [0, 1])
    assert empty["counts"][0] == 0 and math.isnan(empty["mean"][0])
    np.testing.assert_allclose(auto_edges([31.0, 98.0], 4), [30, 47.5, 65, 82.5, 100])


def _particle(pdg, p, parent=INVALID_U4, energy=None):
    rec = np.zeros(1, dtype=LARCV_PARTICLE_DTYPE)
    rec["pdg"] = pdg
    rec["px"], rec["py"], rec["pz"] = p
    mass = {11: 0.51099895, 2212: 938.27208816, 22: 0.0}[abs(pdg)]
    rec["energy_init"] = energy if energy is not None else math.sqrt(sum(v * v for v in p) + mass ** 2)
    rec["parent_trackid"] = parent
    return rec


def test_event_kinematics_by_hand():
    parts = np.concatenate([_particle(11, (30.0, 40.0, 0.0)), _particle(22, (1.0, 0.0, 0.0), parent=0),
                            _particle(2212, (0.0, 0.0, 400.0))])
    nu = np.zeros(1, dtype=LARCV_PARTICLE_DTYPE)
    nu["pdg"], nu["energy_init"], nu["process"] = 12, 812.5, b"QE"
    k = event_kinematics(parts, nu)
    assert [p["pdg"] for p in k["primaries"]] == [11, 2212]  # the photon has a parent
    assert k["primaries"][0]["ke_mev"] == pytest.approx(math.hypot(50.0, 0.51099895) - 0.51099895, abs=1e-4)
    assert k["primaries"][1]["ke_mev"] == pytest.approx(math.hypot(400.0, 938.27208816) - 938.27208816, abs=1e-4)
    assert k["opening_angle_deg"] == pytest.approx(90.0)
    assert (k["nu_pdg"], k["nu_energy_mev"], k["nu_mode"]) == (12, 812.5, "QE")
    assert primary_ke(k, (11, -11)) == k["primaries"][0]["ke_mev"]
    assert math.isnan(primary_ke(k, (13,)))
    back = event_kinematics(np.concatenate([_particle(11, (0, 0, 5.0)), _particle(2212, (0, 0, -300.0))]))
    assert back["opening_angle_deg"] == pytest.approx(180.0) and back["nu_energy_mev"] is None


def _fake_results(root, sample, records):
    d = root / "samples" / sample
    write_jsonl(d / "events.jsonl", records)
    write_json(d / "summary.json", {"sample": sample, "key": sample, "file": f"{sample}.h5",
                                    "metrics": {"n_images": len(records)}})


def test_kinematics_study_on_records(tmp_path):
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 180, 200)
    _fake_results(tmp_path, "1e1p", [{"icpf": a / 1800.0, "opening_angle_deg": a,
                                      "primaries": [{"pdg": 11, "ke_mev": 100.0}]} for a in angles])
    ke_e = rng.uniform(30, 100, 100)
    ke_p = rng.uniform(45, 100, 100)
    _fake_results(tmp_path, "1e1p-le", [{"icpf": 0.01 if p > 70 else 0.1, "opening_angle_deg": None,
                                         "primaries": [{"pdg": 11, "ke_mev": e}, {"pdg": 2212, "ke_mev": p}]}
                                        for e, p in zip(ke_e, ke_p)])
    res = kinematics_study(tmp_path, n_bins=5)
    assert not res["skipped"] and len(res["panels"]) == 3
    angle = res["panels"][0]
    assert angle["counts"].sum() == 200 and len(angle["counts"]) == 12  # 15-degree bins
    for lo, hi, m in zip(angle["edges"][:-1], angle["edges"][1:], angle["mean"]):
        inside = angles[(angles >= lo) & (angles < hi)]
        assert m == pytest.approx(np.mean(inside / 1800.0))
    proton = res["panels"][2]
    assert proton["xlabel"].startswith("proton kinetic energy")
    assert proton["mean"][-1] == pytest.approx(0.01) and proton["mean"][0] == pytest.approx(0.1)
    assert (tmp_path / "fig7_kinematics.png").is_file() and (tmp_path / "kinematics.csv").is_file()
    saved = json.loads((tmp_path / "kinematics.json").read_text())
    assert saved["panels"][1]["variable"] == "ke:11"
    only = kinematics_study(tmp_path, tmp_path / "o", panels=["1e1p-le:ke:2212", "nue-cc:nu_energy"])
    assert only["skipped"] == ["nue-cc:nu_energy"]
    with pytest.raises(LarsegError, match="none of the samples"):
        kinematics_study(tmp_path, panels=["numu-cc:nu_energy"])
    with pytest.raises(LarsegError, match="unknown variable"):
        kinematics_study(tmp_path, panels=["1e1p:phase"])

"""``larseg validate``: the Geant4 muon, EM-shower references, the report and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from larseg.cli import app
from larseg.physics import constants as C
from larseg.validate import geant4, showers
from larseg.validate.checks import Check
from larseg.validate.report import run_validation


@pytest.fixture(scope="module")
def g4_file(shared):
    return shared / "fixtures" / geant4.FIXTURE


def test_geant4_file_units(g4_file):
    # README-external.md: mm and MeV; 'ke' is |p|. The muon is 100 MeV kinetic = 176.44 MeV/c, and its
    # steps add up to ~31 cm, the PDG CSDA range of a 100 MeV muon in argon (~42.6 g/cm^2 / 1.396 g/cm^3)
    g4 = geant4.read_geant4(g4_file)
    assert g4.length == pytest.approx(31.3, abs=0.1)
    assert g4.near_de == pytest.approx(100.0, abs=1.5)  # everything but the decay chain stays near the track
    assert g4.decayed and g4.michel_kinetic == pytest.approx(40.1, abs=0.1)
    assert g4.deltas_above_2mev == 0 and len(g4.delta_energies) == 8


def test_larseg_muon_agrees_with_geant4(g4_file):
    g4, ours, checks = geant4.compare(g4_file, 24)
    by_name = {c.name: c for c in checks}
    assert by_name["muon path length"].status == "pass"
    assert by_name["median muon loss per 1 mm (residual range > 5 cm)"].status == "pass"
    assert by_name["energy deposited by the muon and its EM secondaries"].status == "pass"
    for c in checks:
        if c.name.startswith("dE/dx near the track"):
            assert c.status == "pass", c
    # the delta-ray threshold difference is real and stated, not hidden
    em = by_name["share of the muon's energy deposited by EM secondaries (shower label)"]
    assert em.status == "explained" and g4.em_fraction > 0.03


def test_read_geant4_rejects_other_files(tmp_path):
    from larseg.errors import DataFileError

    bad = tmp_path / "x.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(DataFileError, match="x.h5"):
        geant4.read_geant4(bad)


def test_trunk_dedx_separates_electrons_from_photons():
    # one MIP vs an e+e- pair at the start: ArgoNeuT's 2.1 vs 4.2 MeV/cm
    e = np.median(showers.trunk_dedx(showers.shoot(C.ELECTRON, 500.0, 10, seed=1)))
    g = np.median(showers.trunk_dedx(showers.shoot(C.PHOTON, 500.0, 10, seed=2)))
    assert e == pytest.approx(2.1, abs=0.4)
    assert g == pytest.approx(4.2, abs=0.8)
    assert 1.6 < g / e < 2.4


def test_shower_maximum_follows_the_pdg_parameterisation():
    for pdg, offset in ((C.ELECTRON, -0.5), (C.PHOTON, 0.5)):
        t_max, *_ = showers.gamma_fit_tmax(showers.shoot(pdg, 300.0, 16, seed=3), 300.0)
        assert t_max == pytest.approx(np.log(300.0 / C.CRITICAL_ENERGY) + offset, abs=0.5)


def test_check_status():
    assert Check("g", "a", 1.0, 1.1, 0.2, "", "s").status == "pass"
    assert Check("g", "a", 1.0, 2.0, 0.2, "", "s").status == "FAIL"
    assert Check("g", "a", 1.0, 2.0, 0.2, "", "s", explained="why").status == "explained"
    assert Check("g", "a", 1.0, None, None, "", "s").status == "info"


def test_report_files(tmp_path, shared, monkeypatch):
    monkeypatch.setenv("LARSEG_SHARED", str(shared))
    checks = run_validation(tmp_path, groups=["geant4"], quick=True)
    assert checks and all(c.group == "Geant4 muon" for c in checks)
    data = json.loads((tmp_path / "validate.json").read_text())
    assert len(data["checks"]) == len(checks)
    page = (tmp_path / "validate.html").read_text()
    assert "data:image/png;base64" in page and "Geant4 muon" in page
    assert "| Geant4 muon | muon path length |" in (tmp_path / "validate.md").read_text()


def test_cli_unknown_group_is_one_line(tmp_path):
    from larseg.cli import main  # noqa: F401  (main turns LarsegError into one line)

    result = CliRunner().invoke(app, ["validate", "-o", str(tmp_path), "-g", "nonsense"])
    assert result.exit_code != 0
    assert "nonsense" in str(result.exception) or "nonsense" in result.output


def test_cli_missing_shared_folder(tmp_path):
    result = CliRunner().invoke(app, ["validate", "-o", str(tmp_path), "--shared", str(tmp_path / "nope")])
    assert result.exit_code != 0
    assert "--shared is not a folder" in str(result.exception)


def test_electron_scattering_follows_highland():
    # the multiple-scattering model behind the shower width, on its own: PDG's Highland width
    ours, highland = showers.electron_scattering(100.0, 2.0, 2000)
    assert ours == pytest.approx(highland, rel=0.05)

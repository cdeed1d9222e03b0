"""Truth kinematics of one entry, for slicing the per-event metrics (the paper's Fig. 7)."""

from __future__ import annotations

import functools
import math

import numpy as np

from larseg.data.larcv3 import INVALID_U4
from larseg.physics.generators import mass

#: larseg's neutrino interaction-mode codes (``interaction_type`` of the neutrino record).
MODE_NAMES = {0: "QE", 1: "MEC", 2: "RES", 3: "DIS"}


@functools.lru_cache(maxsize=256)
def _table_mass(pdg: int) -> float | None:
    try:
        return mass(pdg)
    except Exception:  # not in the PDG tables (nuclei, unknown codes)
        return None


def kinetic_energy(record) -> float:
    """Kinetic energy [MeV] of a larcv particle record: total energy minus the PDG mass.

    Codes without a tabulated mass use the record's invariant mass ``sqrt(E^2 - p^2)``.
    """
    e = float(record["energy_init"])
    m = _table_mass(int(record["pdg"]))
    if m is None:
        p2 = float(record["px"]) ** 2 + float(record["py"]) ** 2 + float(record["pz"]) ** 2
        m = math.sqrt(max(e * e - p2, 0.0))
    return max(e - m, 0.0)


def opening_angle_deg(a, b) -> float:
    """Angle [deg] between the momenta of two particle records (NaN if one is at rest)."""
    pa = np.array([a["px"], a["py"], a["pz"]], dtype=np.float64)
    pb = np.array([b["px"], b["py"], b["pz"]], dtype=np.float64)
    na, nb = np.linalg.norm(pa), np.linalg.norm(pb)
    if na == 0 or nb == 0:
        return float("nan")
    c = float(np.clip(pa @ pb / (na * nb), -1.0, 1.0))
    return math.degrees(math.acos(c))


def primaries(particles: np.ndarray) -> np.ndarray:
    """The primary particles (no parent) of a larcv particle table, in table order."""
    if particles is None or len(particles) == 0:
        return np.zeros(0, dtype=particles.dtype if particles is not None else None)
    return particles[particles["parent_trackid"] == INVALID_U4]


def event_kinematics(particles: np.ndarray | None, neutrino: np.ndarray | None = None) -> dict:
    """Per-event truth: each primary's pdg and kinetic energy, the opening angle of the first two
    primaries, and the neutrino's energy, pdg and interaction mode when there is one."""
    out: dict = {"primaries": [], "opening_angle_deg": None, "nu_pdg": None, "nu_energy_mev": None,
                 "nu_mode": None}
    if particles is not None and len(particles):
        prim = primaries(particles)
        out["primaries"] = [{"pdg": int(p["pdg"]), "ke_mev": round(kinetic_energy(p), 4)} for p in prim]
        if len(prim) >= 2:
            out["opening_angle_deg"] = opening_angle_deg(prim[0], prim[1])
    if neutrino is not None and len(neutrino):
        nu = neutrino[0]
        out["nu_pdg"] = int(nu["pdg"])
        out["nu_energy_mev"] = float(nu["energy_init"])
        proc = bytes(nu["process"]).rstrip(b"\x00").decode(errors="replace")
        out["nu_mode"] = proc or MODE_NAMES.get(int(nu["interaction_type"]), str(int(nu["interaction_type"])))
    return out


def primary_ke(record: dict, pdgs) -> float:
    """Kinetic energy of the first primary with a pdg code in ``pdgs`` in an event record (NaN if none)."""
    pdgs = {int(p) for p in pdgs}
    for p in record.get("primaries") or []:
        if int(p["pdg"]) in pdgs:
            return float(p["ke_mev"])
    return float("nan")

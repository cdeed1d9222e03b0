"""Invariants every transported event must satisfy: the checks behind the property tests and ``larseg validate``.

:func:`check_event` returns the violations found in one :class:`SimEvent`
(an empty list when the event is physical). It checks, against the
``PhysicsConfig`` that made the event:

* **steps**: every transport step (a deposit with ``local`` False) is at most
  ``max_step`` long, of positive length, and its energy loss lies in
  ``[0, 3 (S_max dx + W)]``, with ``S_max`` the species' largest restricted
  stopping power above its tracking cut and ``W`` the delta-ray threshold
  (the largest transfer a continuous loss may contain);
* **local deposits** (a particle below its tracking cut, put down where it
  stands): below the largest cut, with a length equal to the CSDA range of
  that energy (electron, or proton for the hadron cut);
* **energy, per particle** (docs/physics.md "Energy bookkeeping"):
  ``T + Q = deposits + escaped + sum of what the daughters take + invisible``,
  where ``Q`` is the rest energy the particle releases at its end (its mass
  when a mu/pi/K/pi0 decays, is captured or is absorbed; 2 m_e when a positron
  annihilates) and a daughter takes its kinetic energy, plus its mass unless
  it was already in the argon (delta-ray and Compton electrons, nucleons).
  ``invisible`` (neutrinos, unrecorded neutrons, nuclear binding, the nucleus'
  recoil) must be zero to rounding for particles that end without a nuclear or
  weak process, and between 0 and ``T + Q`` otherwise;
* **daughters start where their parent was**: within ``max_step`` of the
  parent's path (charged parents), causally (``|dx| <= c dt`` from the
  parent's start), and at the parent's end point when born after it ended
  (decays and captures at rest).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from larseg.physics import constants as C
from larseg.physics.config import PhysicsConfig
from larseg.physics.stopping import SPECIES_PDG, local_dx, stopping_power
from larseg.physics.transport import mass_of
from larseg.physics.truth import SimEvent

#: Processes whose electrons were already in the argon (no rest mass is created for them).
_ATOMIC = (b"eIoni", b"muIoni", b"hIoni", b"compt")
#: Particles whose end releases their rest energy (decay, capture, absorption).
_UNSTABLE = (C.MUON_MINUS, C.MUON_PLUS, C.PION_MINUS, C.PION_PLUS, C.KAON_MINUS, C.KAON_PLUS, C.PION_ZERO)
#: Processes that may carry energy away unseen (neutrinos, neutrons, binding).
_INVISIBLE_OK = (b"Decay", b"muMinusCaptureAtRest", b"hBertiniCaptureAtRest", b"protonInelastic",
                 b"pi+Inelastic", b"pi-Inelastic")


@dataclass
class Violation:
    kind: str  # "step", "dedx", "local", "energy", "daughter"
    track: int
    message: str

    def __str__(self) -> str:
        return f"{self.kind} (track {self.track}): {self.message}"


@dataclass
class EnergyBalance:
    """Where an event's energy went [MeV]: ``initial + released == deposited + escaped + invisible + created``."""

    initial: float  # kinetic energy of the primaries
    released: float  # rest energy set free (decays, captures, annihilation)
    deposited: float
    escaped: float
    invisible: float  # neutrinos, neutrons, binding
    created: float  # rest energy of the particles made (decay products, pairs, pions)

    @property
    def residual(self) -> float:
        return self.initial + self.released - self.deposited - self.escaped - self.invisible - self.created


@functools.cache
def _max_restricted_loss(pdg: int, delta_cut: float, brems_cut: float, t_min: float) -> float:
    t = np.logspace(np.log10(max(t_min, 1e-3)), 5.0, 600)
    return float(np.max(stopping_power(pdg, t, delta_cut, brems_cut)))


def _masses(pdg: np.ndarray) -> np.ndarray:
    return mass_of(pdg)


def particle_ledger(event: SimEvent, cfg: PhysicsConfig) -> dict[str, np.ndarray]:
    """Per-particle energy terms: T, Q, deposited, escaped, daughters, created and invisible [MeV]."""
    p = event.particles
    n = len(p)
    pdg = p["pdg"].astype(np.int64)
    mass = _masses(pdg)
    kinetic = p["kinetic"]
    deposited = np.bincount(event.deposits.track, weights=event.deposits.de, minlength=n)[:n]
    escaped = p["energy_escape"]
    child = np.nonzero(p["parent_id"] >= 0)[0]
    parent = p["parent_id"][child]
    from_medium = np.isin(p["process"][child], _ATOMIC) | np.isin(np.abs(pdg[child]), (C.PROTON, C.NEUTRON))
    created = np.where(from_medium, 0.0, mass[child])
    daughters = np.bincount(parent, weights=kinetic[child] + created, minlength=n)[:n]
    annihilated = np.zeros(n, dtype=bool)
    annihilated[parent[p["process"][child] == b"annihil"]] = True
    ended_inside = escaped == 0.0
    nuclear_end = np.zeros(n, dtype=bool)
    nuclear_end[parent[np.isin(p["process"][child], _INVISIBLE_OK)]] = True
    unstable = np.isin(pdg, _UNSTABLE) & ended_inside & (cfg.enable_decays | nuclear_end | (pdg == C.PION_ZERO))
    released = np.where(unstable, mass, 0.0) + np.where(annihilated, 2.0 * C.ELECTRON_MASS, 0.0)
    invisible = kinetic + released - deposited - escaped - daughters
    created_all = np.zeros(n)
    created_all[child] = created
    return {"kinetic": kinetic, "released": released, "deposited": deposited, "escaped": escaped,
            "daughters": daughters, "created": created_all, "invisible": invisible, "may_vanish": unstable
            | nuclear_end | np.isin(pdg, (C.NEUTRON, *C.NEUTRINOS))}


def energy_balance(event: SimEvent, cfg: PhysicsConfig) -> EnergyBalance:
    """The event's energy bookkeeping (sums of :func:`particle_ledger`)."""
    led = particle_ledger(event, cfg)
    primary = event.particles["parent_id"] < 0
    return EnergyBalance(float(led["kinetic"][primary].sum()), float(led["released"].sum()),
                         float(event.deposits.de.sum()), float(led["escaped"].sum()), float(led["invisible"].sum()),
                         float(led["created"].sum()))


def _steps(event: SimEvent, cfg: PhysicsConfig, out: list[Violation], limit: int) -> None:
    d = event.deposits
    step = ~d.local
    pdg = event.particles["pdg"][d.track].astype(np.int64)
    too_long = step & (d.dx > cfg.max_step * (1.0 + 1e-9))
    too_short = step & ~(d.dx > 0.0)
    for i in np.nonzero(too_long | too_short)[0][:limit]:
        out.append(Violation("step", int(d.track[i]), f"pdg {pdg[i]} step dx = {d.dx[i]:.4g} cm "
                             f"(allowed (0, {cfg.max_step}]) with dE = {d.de[i]:.4g} MeV"))
    for code in np.unique(pdg[step]):
        if int(code) not in SPECIES_PDG:
            bad = np.nonzero(step & (pdg == code))[0][:limit]
            out.extend(Violation("step", int(d.track[i]), f"pdg {code} has transport steps") for i in bad)
            continue
        sel = step & (pdg == code)
        t_min = cfg.electron_cut if abs(int(code)) == C.ELECTRON else 0.0
        s_max = _max_restricted_loss(int(code), float(cfg.delta_threshold), float(cfg.brems_threshold), t_min)
        w = float(cfg.delta_threshold) if cfg.enable_delta_rays else np.inf
        upper = 3.0 * (s_max * d.dx + w)
        bad = np.nonzero(sel & ((d.de < 0.0) | (d.de > upper)))[0][:limit]
        out.extend(Violation("dedx", int(d.track[i]), f"pdg {code} step dE = {d.de[i]:.4g} MeV in {d.dx[i]:.4g} cm "
                             f"(allowed 0..{upper[i]:.4g})") for i in bad)


def _locals(event: SimEvent, cfg: PhysicsConfig, out: list[Violation], limit: int) -> None:
    d = event.deposits
    loc = np.nonzero(d.local)[0]
    if not loc.size:
        return
    cut = max(cfg.electron_cut, cfg.photon_cut, cfg.hadron_cut)
    de, dx = d.de[loc], d.dx[loc]
    above = de > cut * (1.0 + 1e-9)
    e_len = local_dx(de)
    p_len = local_dx(de, C.PROTON)
    consistent = np.isclose(dx, e_len, rtol=1e-3, atol=1e-9) | np.isclose(dx, p_len, rtol=1e-3, atol=1e-9)
    for j in np.nonzero(above | ~consistent | (de < 0))[0][:limit]:
        out.append(Violation("local", int(d.track[loc[j]]), f"local deposit of {de[j]:.4g} MeV over {dx[j]:.4g} cm "
                             f"(cut {cut} MeV; CSDA range {e_len[j]:.4g} cm for e-)"))


def _energy(event: SimEvent, cfg: PhysicsConfig, out: list[Violation], limit: int) -> None:
    led = particle_ledger(event, cfg)
    scale = led["kinetic"] + led["released"]
    tol = 1e-6 * np.maximum(scale, 1.0)
    inv = led["invisible"]
    bad = (inv < -tol) | (inv > scale + tol) | (~led["may_vanish"] & (np.abs(inv) > tol))
    pdg = event.particles["pdg"]
    for i in np.nonzero(bad)[0][:limit]:
        out.append(Violation("energy", int(i), f"pdg {pdg[i]}: T + Q = {scale[i]:.6g} MeV but deposits "
                             f"{led['deposited'][i]:.6g} + escaped {led['escaped'][i]:.6g} + daughters "
                             f"{led['daughters'][i]:.6g} leave {inv[i]:.4g} MeV unaccounted"))


def _daughters(event: SimEvent, cfg: PhysicsConfig, out: list[Violation], limit: int) -> None:
    from scipy.spatial import cKDTree  # lazy: scipy is slow to import and only the daughter check needs it

    p = event.particles
    child = np.nonzero(p["parent_id"] >= 0)[0]
    if not child.size:
        return
    parent = p["parent_id"][child]
    x_c, t_c = p["start"][child, :3], p["start"][child, 3]
    x_p0, t_p0 = p["start"][parent, :3], p["start"][parent, 3]
    x_p1, t_p1 = p["end"][parent, :3], p["end"][parent, 3]
    eps_x, eps_t = 1e-6 + 1e-9 * np.abs(x_c).max(initial=1.0), 1e-6 * np.maximum(1.0, np.abs(t_c))
    problems: dict[int, str] = {}
    early = t_c < t_p0 - eps_t
    acausal = np.linalg.norm(x_c - x_p0, axis=1) > C.SPEED_OF_LIGHT * (t_c - t_p0) * (1 + 1e-9) + eps_x
    late = t_c > t_p1 + eps_t
    off_end = late & (np.linalg.norm(x_c - x_p1, axis=1) > eps_x)
    for j in np.nonzero(early)[0]:
        problems.setdefault(j, f"born at t = {t_c[j]:.6g} ns, before its parent {parent[j]} (t = {t_p0[j]:.6g})")
    for j in np.nonzero(acausal)[0]:
        problems.setdefault(j, f"born {np.linalg.norm(x_c[j] - x_p0[j]):.4g} cm from its parent's start, "
                               f"further than light goes in {t_c[j] - t_p0[j]:.4g} ns")
    for j in np.nonzero(off_end)[0]:
        problems.setdefault(j, f"born after its parent ended but {np.linalg.norm(x_c[j] - x_p1[j]):.4g} cm from "
                               "its end point")
    # on the parent's path: within max_step of one of its transport steps (charged parents)
    d = event.deposits
    step = ~d.local
    if step.any():
        offset = 1e7  # separates the tracks in the search space
        tree = cKDTree(np.column_stack([d.x[step], d.y[step], d.z[step], d.track[step] * offset]))
        has_steps = np.zeros(len(p), dtype=bool)
        has_steps[d.track[step]] = True
        on = np.nonzero(has_steps[parent] & ~late & ~early)[0]
        if on.size:
            dist, _ = tree.query(np.column_stack([x_c[on], parent[on] * offset]))
            at_ends = (np.linalg.norm(x_c[on] - x_p0[on], axis=1) <= eps_x) | (
                np.linalg.norm(x_c[on] - x_p1[on], axis=1) <= eps_x)
            for k in np.nonzero((dist > cfg.max_step) & ~at_ends)[0]:
                problems.setdefault(on[k], f"born {dist[k]:.4g} cm from its parent's path (max step {cfg.max_step})")
    for j in sorted(problems)[:limit]:
        out.append(Violation("daughter", int(child[j]), f"pdg {p['pdg'][child[j]]} ({p['process'][child[j]].decode()})"
                             f" {problems[j]}"))


def check_event(event: SimEvent, cfg: PhysicsConfig | None = None, limit: int = 5) -> list[Violation]:
    """Every invariant violation of one transported event (at most ``limit`` per check)."""
    cfg = cfg if cfg is not None else PhysicsConfig()
    out: list[Violation] = []
    for check in (_steps, _locals, _energy, _daughters):
        check(event, cfg, out, limit)
    return out


__all__ = ["EnergyBalance", "Violation", "check_event", "energy_balance", "particle_ledger"]

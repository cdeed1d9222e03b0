"""Event transport: primaries in, particle table and energy deposits out.

Particles are followed in rounds ("generations"): each round transports every
pending particle, vectorised by kind (pi0 decays, then photons, then all
charged species together), and the secondaries it makes are the next round's
pending particles. Table rows (track ids) are handed out in creation order,
so a fixed seed gives the same event bit for bit.

Tracking cuts (``PhysicsConfig``): a delta-ray or Compton e- made below
``electron_cut``, a photon below ``photon_cut`` or a proton below ``hadron_cut``
is not made: its kinetic energy is deposited at its birth point and credited to
the parent. Positrons, and electrons made out of energy (pair conversion,
decays), are always made (they stop at once and deposit what they have). Neutrons and neutrinos are not recorded
(a primary one gets a row but is not transported).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from larseg.physics import constants as C
from larseg.physics import kinematics as K
from larseg.physics import samplers
from larseg.physics.charged import CAP, DECAY, DELTA, ESCAPED, INELASTIC, STOP, Batch, inside_box, transport_charged
from larseg.physics.config import PhysicsConfig
from larseg.physics.decays import at_rest, decay_in_flight, pi0_decay
from larseg.physics.em import transport_photons
from larseg.physics.hadronic import inelastic
from larseg.physics.secondaries import Secondaries
from larseg.physics.stopping import SPECIES_MASS, SPECIES_PDG, local_dx, species_index
from larseg.physics.truth import PARTICLE_DTYPE, Deposits, SimEvent

_MASS = {int(p): float(m) for p, m in zip(SPECIES_PDG, SPECIES_MASS)}
_MASS.update({C.PHOTON: 0.0, C.PION_ZERO: C.PION_ZERO_MASS, C.NEUTRON: 939.56542052})
_MASS.update({nu: 0.0 for nu in C.NEUTRINOS})
_UNTRACKED = (C.NEUTRON, *C.NEUTRINOS)
#: Electrons that were in the argon before (their rest energy is not created by the process).
_ATOMIC_PROCESSES = [C.PROC[name] for name in ("eIoni", "muIoni", "hIoni", "compt")]


def mass_of(pdg: np.ndarray) -> np.ndarray:
    """Rest masses [MeV] of the PDG codes larseg.physics knows."""
    return np.array([_MASS[int(p)] for p in np.asarray(pdg).ravel()])


@dataclass
class _Pending:
    """Particles waiting to be transported (their rows exist already)."""

    track: np.ndarray
    pdg: np.ndarray
    pos: np.ndarray
    time: np.ndarray
    direction: np.ndarray
    kinetic: np.ndarray

    def select(self, mask) -> _Pending:
        return _Pending(*(getattr(self, f.name)[mask] for f in fields(self)))

    @staticmethod
    def join(a: _Pending, b: _Pending) -> _Pending:
        return _Pending(*(np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(_Pending)))

    def __len__(self) -> int:
        return len(self.track)


class _Ledger:
    """The particle table under construction: rows are appended, end points filled in later."""

    def __init__(self):
        self.rows: list[dict[str, np.ndarray]] = []
        self.ancestor = np.zeros(0, np.int64)
        self.size = 0
        self.ends: list[tuple[np.ndarray, ...]] = []
        self.deposits: list[Deposits] = []

    def add(self, s: Secondaries, primary: bool = False) -> _Pending:
        n = len(s)
        ids = np.arange(self.size, self.size + n)
        ancestor = ids if primary else self.ancestor[s.parent]
        mass = mass_of(s.pdg)
        p = np.sqrt(s.kinetic * (s.kinetic + 2.0 * mass))
        self.rows.append({"parent": s.parent, "ancestor": ancestor, "pdg": s.pdg, "process": s.process,
                              "start": np.column_stack([s.pos, s.time]), "momentum": p[:, None] * s.direction,
                              "energy_init": s.kinetic + mass, "kinetic": s.kinetic})
        self.ancestor = np.concatenate([self.ancestor, ancestor])
        self.size += n
        return _Pending(ids, s.pdg, s.pos, s.time, s.direction, s.kinetic)

    def finish(self, track, pos, time, length, escape) -> None:
        n = len(track)
        self.ends.append((np.asarray(track), np.column_stack([pos, time]).reshape(n, 4),
                          np.broadcast_to(length, (n,)), np.broadcast_to(escape, (n,))))

    def deposit(self, pos, time, de, dx, track) -> None:
        if len(de):
            self.deposits.append(Deposits(pos[:, 0], pos[:, 1], pos[:, 2], time, de, dx, track.astype(np.int32),
                                          local=True))

    def admit(self, s: Secondaries, cfg: PhysicsConfig) -> _Pending:
        """Make the secondaries that pass the cuts; deposit the others at their birth point."""
        # an electron made out of energy (pair conversion, decay) is always made, whatever its energy: not
        # making it would lose its rest mass from the energy bookkeeping; one knocked out of an atom is not
        atomic = np.isin(s.process, _ATOMIC_PROCESSES)
        local = (((s.pdg == C.PHOTON) & (s.kinetic < cfg.photon_cut))
                 | ((s.pdg == C.ELECTRON) & (s.kinetic < cfg.electron_cut) & atomic)
                 | ((s.pdg == C.PROTON) & (s.kinetic < cfg.hadron_cut)))
        if local.any():
            lo = s.select(local)
            dx = np.where(lo.pdg == C.PROTON, local_dx(lo.kinetic, C.PROTON), local_dx(lo.kinetic))
            self.deposit(lo.pos, lo.time, lo.kinetic, dx, lo.parent)
        return self.add(s.select(~local))

    def table(self) -> tuple[np.ndarray, Deposits]:
        deposits = Deposits.concatenate(self.deposits)
        out = np.zeros(self.size, dtype=PARTICLE_DTYPE)
        out["track_id"] = np.arange(self.size)
        if self.rows:
            cols = {k: np.concatenate([r[k] for r in self.rows]) for k in self.rows[0]}
            out["parent_id"] = cols["parent"]
            out["ancestor_id"] = cols["ancestor"]
            out["pdg"] = cols["pdg"]
            out["process"] = np.array(C.PROCESS_NAMES, dtype="S32")[cols["process"]]
            out["start"] = cols["start"]
            out["end"] = cols["start"]
            out["momentum"] = cols["momentum"]
            out["energy_init"] = cols["energy_init"]
            out["kinetic"] = cols["kinetic"]
        for track, end, length, escape in self.ends:  # a continued particle has several records
            out["end"][track] = end
            np.add.at(out["length"], track, length)
            out["energy_escape"][track] = escape
        out["energy_deposit"] = np.bincount(deposits.track, weights=deposits.de, minlength=self.size)
        return out, deposits


def _primaries(primaries) -> Secondaries:
    arr = np.asarray(primaries, dtype=np.float64)
    if arr.size == 0:
        arr = arr.reshape(0, 8)
    if arr.ndim != 2 or arr.shape[1] != 8:
        raise ValueError(f"primaries must be rows of (pdg, x, y, z, t, px, py, pz), got shape {arr.shape}")
    pdg = np.rint(arr[:, 0]).astype(np.int64)
    unknown = sorted({int(p) for p in pdg if int(p) not in _MASS})
    if unknown:
        raise ValueError(f"cannot transport primaries with PDG codes {unknown}")
    p_vec = arr[:, 5:8]
    p = np.linalg.norm(p_vec, axis=1)
    mass = mass_of(pdg)
    direction = K.normalize(p_vec)
    return Secondaries.make(np.full(len(pdg), -1), pdg, C.PROC["primary"], arr[:, 1:4], arr[:, 4], direction,
                            np.sqrt(p * p + mass * mass) - mass)


def transport(primaries, rng: np.random.Generator, config: PhysicsConfig | None = None,
              vertex=None) -> SimEvent:
    """Transport one event's primaries through liquid argon.

    ``primaries``: rows (pdg, x, y, z, t, px, py, pz) [cm, ns, MeV/c] (an
    (n, 8) array or a list of 8-tuples). ``rng``: the event's random stream
    (all randomness comes from it). ``vertex`` [cm] defaults to the first
    primary's position. Returns the particle table (``PARTICLE_DTYPE``, row =
    track id, primaries first), the energy deposits and the vertex.
    """
    cfg = config if config is not None else PhysicsConfig()
    prim = _primaries(primaries)
    if vertex is None:
        vertex = prim.pos[0] if len(prim) else np.zeros(3)
    ledger = _Ledger()
    pending = ledger.add(prim, primary=True)
    while len(pending):
        pending = _round(pending, ledger, cfg, rng)
    particles, deposits = ledger.table()
    return SimEvent(particles, deposits, np.asarray(vertex, dtype=np.float64).copy())


def _round(pending: _Pending, ledger: _Ledger, cfg: PhysicsConfig, rng: np.random.Generator) -> _Pending:
    """Transport everything pending; return the particles made on the way."""
    box = cfg.bounding_box
    made: list[Secondaries] = []
    # particles born outside the box, and neutrons/neutrinos, end where they start
    outside = ~inside_box(pending.pos, box)
    untracked = np.isin(pending.pdg, _UNTRACKED) | outside
    if untracked.any():
        u = pending.select(untracked)
        escape = np.where(np.isin(u.pdg, _UNTRACKED), 0.0, u.kinetic)
        ledger.finish(u.track, u.pos, u.time, 0.0, escape)
        pending = pending.select(~untracked)

    pi0 = pending.pdg == C.PION_ZERO
    if pi0.any():
        q = pending.select(pi0)
        ledger.finish(q.track, q.pos, q.time, 0.0, 0.0)
        photons = ledger.admit(pi0_decay(q.track, q.pos, q.time, q.direction, q.kinetic, rng), cfg)
        pending = _Pending.join(pending.select(~pi0), photons)

    gam = pending.pdg == C.PHOTON
    if gam.any():
        g = pending.select(gam)
        res = transport_photons(g.track, g.pos, g.time, g.direction, g.kinetic, cfg, rng)
        ledger.deposits.append(res.deposits)
        ledger.finish(g.track, res.end_pos, res.end_time, res.length, res.escape)
        made.append(res.secondaries)

    ch = pending.select(~gam)
    continued = ch.select(np.zeros(len(ch), dtype=bool))
    if len(ch):
        secondaries, continued = _charged(ch, ledger, cfg, rng)
        made.append(secondaries)
    return _Pending.join(ledger.admit(Secondaries.concatenate(made), cfg), continued)


def _charged(ch: _Pending, ledger: _Ledger, cfg: PhysicsConfig,
             rng: np.random.Generator) -> tuple[Secondaries, _Pending]:
    """Transport charged particles; return their secondaries and the particles to continue."""
    batch = Batch(ch.track, ch.pdg, species_index(ch.pdg), ch.pos, ch.time, ch.direction, ch.kinetic)
    res = transport_charged(batch, cfg, rng)
    ledger.deposits.append(res.deposits)
    escape = np.where(res.end_state == ESCAPED, res.end_kinetic, 0.0)
    ledger.finish(ch.track, res.end_pos, res.end_time, res.length, escape)
    out: list[Secondaries] = []

    ev = res.events
    if len(ev.kind):
        parent_pdg = ch.pdg[ev.particle]
        parent_mass = SPECIES_MASS[batch.species[ev.particle]]
        is_delta = ev.kind == DELTA
        cos_t = np.empty(len(ev.kind))
        cos_t[is_delta] = samplers.delta_cos_theta(ev.energy[is_delta], ev.kinetic[is_delta], parent_mass[is_delta])
        cos_t[~is_delta] = samplers.dipole_cos_theta(ev.kinetic[~is_delta] + parent_mass[~is_delta], rng)
        direction = K.deflect(ev.direction, cos_t, rng.uniform(0.0, 2.0 * np.pi, len(cos_t)))
        delta_proc = np.where(np.abs(parent_pdg) == C.ELECTRON, C.PROC["eIoni"],
                              np.where(np.abs(parent_pdg) == C.MUON_MINUS, C.PROC["muIoni"], C.PROC["hIoni"]))
        out.append(Secondaries.make(ch.track[ev.particle], np.where(is_delta, C.ELECTRON, C.PHOTON),
                                    np.where(is_delta, delta_proc, C.PROC["eBrem"]), ev.pos, ev.time, direction,
                                    ev.energy))

    state = res.end_state
    end = (res.end_pos, res.end_time, res.end_direction, res.end_kinetic)
    if cfg.enable_decays:
        stop = np.nonzero(state == STOP)[0]
        out.append(at_rest(ch.track[stop], ch.pdg[stop], end[0][stop], end[1][stop], cfg, rng))
        fly = np.nonzero(state == DECAY)[0]
        out.append(decay_in_flight(ch.track[fly], ch.pdg[fly], *(a[fly] for a in end), rng))
    hit = np.nonzero(state == INELASTIC)[0]
    if hit.size:
        out.append(inelastic(ch.track[hit], ch.pdg[hit], *(a[hit] for a in end), rng))
    if cfg.enable_annihilation:
        pos = np.nonzero((state == STOP) & (ch.pdg == C.POSITRON))[0]
        axis = K.isotropic(rng, pos.size)
        both = np.concatenate
        out.append(Secondaries.make(both([ch.track[pos]] * 2), C.PHOTON, C.PROC["annihil"],
                                    both([end[0][pos]] * 2), both([end[1][pos]] * 2), both([axis, -axis]),
                                    np.full(2 * pos.size, C.ELECTRON_MASS)))
    cont = state == CAP
    continued = _Pending(ch.track[cont], ch.pdg[cont], end[0][cont], end[1][cont], end[2][cont], end[3][cont])
    return Secondaries.concatenate(out), continued


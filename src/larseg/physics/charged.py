"""Transport of charged particles (e+-, mu, pi, K, p): whole trajectories at once.

A batch of particles of mixed species is transported in two vectorised stages:

1. **Discrete events.** Between discrete events (delta rays, bremsstrahlung,
   inelastic interactions, decays in flight) a particle loses energy
   continuously along the restricted-loss range table, so the number of mean
   free paths it crosses while slowing from T to T' is the tabulated
   ``depth(T) - depth(T')``. Drawing an exponential depth gives the energy
   of the next event exactly, without stepping. One loop iteration handles the
   next event of every live particle; the loop runs as many times as the
   busiest particle has events (tens for a GeV electron).
2. **Trajectories.** The continuous segments between events are cut into
   steps on a residual-range grid (``max_step`` along the track, shrinking
   as ``step_range_fraction`` of the residual range towards the end, down to
   ``min_step``). Multiple-scattering kicks of every step are drawn at once
   from the Highland formula; each particle's direction is the prefix product
   of its kicks (exact rotation composition by a log-depth quaternion scan);
   positions are the cumulative sum of the steps. Step losses get Landau/Bohr
   fluctuations, rescaled per particle so that they add up to the energy lost.

Range straggling: each heavy particle's continuous path is stretched by a
factor 1 + sigma_R/R * N(0, 1) (Bohr variance integrated over the range).

Units: cm, ns, MeV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from larseg.physics import constants as C
from larseg.physics import kinematics as K
from larseg.physics import samplers
from larseg.physics.config import PhysicsConfig
from larseg.physics.fluctuations import fluctuate
from larseg.physics.stopping import (
    BREMS,
    DECAY,
    DELTA,
    INELASTIC,
    IS_LEPTON_E,
    N_PROCESSES,
    SPECIES_MASS,
    SPIN_HALF,
    SpeciesTables,
    local_dx,
    species_tables,
)
from larseg.physics.truth import Deposits

#: Segment kinds besides the discrete processes: the particle ran out of energy, or nothing happened.
STOP, NULL = -1, -2
#: End state of a particle that left the bounding box.
ESCAPED = -3
#: End state of a particle that reached its path budget inside the box: it is continued in the next round.
CAP = -4


@dataclass
class Batch:
    """Particles to transport: row ``i`` is particle table row ``track[i]``."""

    track: np.ndarray  # (n,) int
    pdg: np.ndarray  # (n,) int
    species: np.ndarray  # (n,) row in the species tables
    pos: np.ndarray  # (n, 3) cm
    time: np.ndarray  # (n,) ns
    direction: np.ndarray  # (n, 3) unit
    kinetic: np.ndarray  # (n,) MeV


@dataclass
class Events:
    """Discrete events inside the box, for making secondaries (one entry each)."""

    particle: np.ndarray  # index into the batch
    kind: np.ndarray  # DELTA, BREMS
    pos: np.ndarray
    time: np.ndarray
    direction: np.ndarray
    kinetic: np.ndarray  # of the parent just before the event
    energy: np.ndarray  # of the secondary


@dataclass
class ChargedResult:
    deposits: Deposits
    events: Events
    end_pos: np.ndarray  # (n, 3)
    end_time: np.ndarray
    end_direction: np.ndarray
    end_kinetic: np.ndarray  # kinetic energy left at the end (escaping, decaying in flight, interacting)
    end_state: np.ndarray  # STOP, INELASTIC, DECAY or ESCAPED
    length: np.ndarray  # path length [cm]


def tables_for(cfg: PhysicsConfig) -> SpeciesTables:
    flags = (cfg.enable_delta_rays, cfg.enable_bremsstrahlung, cfg.enable_hadronic, cfg.enable_decays)
    return species_tables(float(cfg.delta_threshold), float(cfg.brems_threshold), float(cfg.electron_cut), flags)


# --- stage 1: discrete events


@dataclass
class _Segments:
    particle: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray
    kind: np.ndarray
    energy: np.ndarray  # secondary energy of the event ending the segment


def _secondary_energies(kind: np.ndarray, species: np.ndarray, t: np.ndarray, cfg: PhysicsConfig,
                        rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(len(t))
    delta = kind == DELTA
    light = delta & IS_LEPTON_E[species]
    heavy = delta & ~IS_LEPTON_E[species]
    if light.any():
        out[light] = samplers.moller_energy(t[light], cfg.delta_threshold, rng)
    if heavy.any():
        sp = species[heavy]
        mass = SPECIES_MASS[sp]
        tm = _t_max_mixed(t[heavy], mass)
        out[heavy] = samplers.heavy_delta_energy(t[heavy], mass, SPIN_HALF[sp], cfg.delta_threshold, tm, rng)
    brems = kind == BREMS
    if brems.any():
        out[brems] = samplers.brems_energy(t[brems], cfg.brems_threshold, rng)
    return out


def _t_max_mixed(t: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """T_max for heavy particles of several masses (elementwise)."""
    me = C.ELECTRON_MASS
    gamma = 1.0 + t / mass
    bg2 = gamma * gamma - 1.0
    return 2.0 * me * bg2 / (1.0 + 2.0 * gamma * me / mass + (me / mass) ** 2)


def _w_max(t: np.ndarray, species: np.ndarray, cfg: PhysicsConfig) -> np.ndarray:
    """Largest energy transfer inside the continuous loss."""
    mass = SPECIES_MASS[species]
    tm = np.where(IS_LEPTON_E[species], 0.5 * t, _t_max_mixed(t, mass))
    return np.minimum(tm, cfg.delta_threshold) if cfg.enable_delta_rays else tm


def _discrete_events(batch: Batch, t_cap: np.ndarray, tab: SpeciesTables, cfg: PhysicsConfig,
                     rng: np.random.Generator) -> _Segments:
    """Segments between discrete events of every particle, ordered by particle then along the track.

    A particle's last segment ends at the tracking cut (STOP) or, where
    ``t_cap`` is higher, at ``t_cap`` (CAP: its path budget is used up).
    """
    sp = batch.species
    capped = (t_cap > tab.stop_energy[sp]) & (t_cap < batch.kinetic)
    t_stop = np.where(capped, t_cap, tab.stop_energy[sp])
    end_kind = np.where(capped, CAP, STOP)
    kinetic = batch.kinetic.copy()
    parts: list[tuple[np.ndarray, ...]] = []

    def record(idx, t0, t1, kind, energy):
        parts.append((idx, t0, t1, np.broadcast_to(kind, idx.shape).astype(np.int64),
                      np.broadcast_to(energy, idx.shape).astype(np.float64)))

    low = np.nonzero(kinetic <= t_stop)[0]
    record(low, kinetic[low], kinetic[low], STOP, 0.0)
    alive = np.nonzero(kinetic > t_stop)[0]
    depth_stop = tab.depth_of(sp, t_stop)
    while alive.size:
        s = sp[alive]
        target = tab.depth_of(s, kinetic[alive]) - rng.exponential(size=alive.size)
        ends = target <= depth_stop[alive]
        done = alive[ends]
        record(done, kinetic[done], t_stop[done], end_kind[done], 0.0)
        ev, s_ev = alive[~ends], s[~ends]
        t_ev = np.clip(tab.energy_of_depth(s_ev, target[~ends]), t_stop[ev], kinetic[ev])
        rates = np.stack([tab.rates[k](s_ev, t_ev) for k in range(N_PROCESSES)], axis=1)
        cum = np.cumsum(rates, axis=1)
        u = rng.random(ev.size) * cum[:, -1]
        kind = np.minimum((u[:, None] >= cum).sum(axis=1), N_PROCESSES - 1)
        kind = np.where(cum[:, -1] > 0, kind, NULL)
        energy = _secondary_energies(kind, s_ev, t_ev, cfg, rng)
        record(ev, kinetic[ev], t_ev, kind, energy)
        kinetic[ev] = t_ev - energy
        going = ev[(kind == DELTA) | (kind == BREMS) | (kind == NULL)]
        low = kinetic[going] <= t_stop[going]
        # below t_stop after an event: a capped particle is continued (CAP) with what it has, not stopped;
        # stopping it would deposit its whole energy in one "rest" deposit (issue 11).
        ended = going[low]
        record(ended, kinetic[ended], kinetic[ended], end_kind[ended], 0.0)
        alive = going[~low]
    cols = [np.concatenate(c) for c in zip(*parts)]
    order = np.argsort(cols[0], kind="stable")
    return _Segments(*(c[order] for c in cols))


# --- stage 2: trajectories


def _step_coordinate(r: np.ndarray, cfg: PhysicsConfig) -> np.ndarray:
    """u(r): steps are unit intervals of u; du/dr = 1/step(r), step = clip(f r, min_step, max_step)."""
    f, h0, h1 = cfg.step_range_fraction, cfg.min_step, cfg.max_step
    r0, r1 = h0 / f, h1 / f
    mid = 1.0 / f + np.log(np.clip(r, r0, r1) / r0) / f
    return np.where(r <= r0, r / h0, np.where(r <= r1, mid, 1.0 / f + np.log(r1 / r0) / f + (r - r1) / h1))


def _step_coordinate_inverse(u: np.ndarray, cfg: PhysicsConfig) -> np.ndarray:
    f, h0, h1 = cfg.step_range_fraction, cfg.min_step, cfg.max_step
    r0, r1 = h0 / f, h1 / f
    u0, u1 = 1.0 / f, 1.0 / f + np.log(r1 / r0) / f
    return np.where(u <= u0, u * h0, np.where(u <= u1, r0 * np.exp((np.minimum(u, u1) - u0) * f), r1 + (u - u1) * h1))


def _box_exit(pos: np.ndarray, direction: np.ndarray, box) -> np.ndarray:
    """Distance from points inside ``box`` along ``direction`` to its surface."""
    lo = np.array(box[0::2])
    hi = np.array(box[1::2])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dist = np.where(direction > 0, (hi - pos) / direction, np.where(direction < 0, (lo - pos) / direction, np.inf))
    return np.maximum(dist.min(axis=1), 0.0)


def inside_box(pos: np.ndarray, box) -> np.ndarray:
    if box is None:
        return np.ones(len(pos), dtype=bool)
    lo = np.array(box[0::2])
    hi = np.array(box[1::2])
    return np.all((pos >= lo) & (pos <= hi), axis=1)


def transport_charged(batch: Batch, cfg: PhysicsConfig, rng: np.random.Generator) -> ChargedResult:
    """Transport a batch of charged particles to their end (stop, interaction, decay or box exit)."""
    tab = tables_for(cfg)
    n = len(batch.kinetic)
    sp = batch.species
    r_total = tab.range_of(sp, batch.kinetic)

    # range straggling: stretch each heavy particle's path
    stretch = np.ones(n)
    if cfg.enable_range_straggling:
        heavy = ~IS_LEPTON_E[sp]
        sigma = np.sqrt(tab.straggling(sp[heavy], batch.kinetic[heavy])) / np.maximum(r_total[heavy], 1e-12)
        stretch[heavy] = np.clip(1.0 + sigma * rng.standard_normal(heavy.sum()), 0.7, 1.3)

    # path budget in a box: trajectories are built up to 1.5x the straight distance to the wall
    # plus 10 cm; a particle still inside then is continued (CAP) rather than built in vain.
    t_cap = np.zeros(n)
    if cfg.bounding_box is not None:
        budget = 1.5 * _box_exit(batch.pos, batch.direction, cfg.bounding_box) + 10.0
        r_cap = r_total - budget / stretch
        t_cap = np.where(r_cap > 0, tab.energy_of(sp, np.maximum(r_cap, 0.0)), 0.0)
    segs = _discrete_events(batch, t_cap, tab, cfg, rng)

    # steps of every segment on the residual-range grid
    seg_sp = sp[segs.particle]
    ra = tab.range_of(seg_sp, segs.t_start)
    rb = np.minimum(tab.range_of(seg_sp, segs.t_end), ra)
    ua, ub = _step_coordinate(ra, cfg), _step_coordinate(rb, cfg)
    # a stretched path (range straggling) gets proportionally more steps, so no step exceeds max_step
    seg_stretch = np.maximum(stretch[segs.particle], 1.0)
    nst = np.where(ra - rb > 1e-9, np.maximum(1, np.ceil((ua - ub) * seg_stretch - 1e-9)), 0).astype(np.int64)
    n_steps = int(nst.sum())
    step_seg = np.repeat(np.arange(len(nst)), nst)
    seg_first_step = np.cumsum(nst) - nst
    k = np.arange(n_steps) - seg_first_step[step_seg]
    du = ((ua - ub) / np.maximum(nst, 1))[step_seg]
    r_hi = _step_coordinate_inverse(ua[step_seg] - k * du, cfg)
    r_lo = _step_coordinate_inverse(ua[step_seg] - (k + 1) * du, cfg)
    first, last = k == 0, k == nst[step_seg] - 1
    r_hi[first] = ra[step_seg[first]]
    r_lo[last] = rb[step_seg[last]]
    s_step = seg_sp[step_seg]
    t_hi = tab.energy_of(s_step, r_hi)
    t_lo = tab.energy_of(s_step, r_lo)
    t_hi[first] = segs.t_start[step_seg[first]]
    t_lo[last] = segs.t_end[step_seg[last]]
    t_mid = tab.energy_of(s_step, 0.5 * (r_hi + r_lo))
    step_particle = segs.particle[step_seg]
    ds = stretch[step_particle] * (r_hi - r_lo)
    mass = SPECIES_MASS[s_step]
    e_mid = t_mid + mass
    p2 = t_mid * (t_mid + 2.0 * mass)
    beta2 = p2 / (e_mid * e_mid)

    # per-particle bookkeeping: steps are ordered by particle
    n_steps_p = np.bincount(step_particle, minlength=n)
    step_start = np.cumsum(n_steps_p) - n_steps_p
    cum_s = np.concatenate([[0.0], np.cumsum(ds)])
    s_from = cum_s[:-1] - cum_s[step_start[step_particle]]
    s_to = s_from + ds

    # multiple scattering: Highland variance accumulated along the path (step-size independent)
    n_points = n_steps + n
    point_start = step_start + np.arange(n)
    point_particle = np.repeat(np.arange(n), n_steps_p + 1)
    point_k = np.arange(n_points) - point_start[point_particle]
    quats = np.empty((n_points, 4))
    quats[point_start] = K.quat_from_z(batch.direction)
    kicked = np.nonzero(point_k > 0)[0]
    if cfg.enable_multiple_scattering and n_steps:
        dF = ds / (C.RADIATION_LENGTH * (p2 * p2 / (e_mid * e_mid)))  # ds / (X0 (beta p)^2)
        cum_f = np.concatenate([[0.0], np.cumsum(dF)])
        f_from = cum_f[:-1] - cum_f[step_start[step_particle]]
        f_to = f_from + dF

        def highland(f, s):
            with np.errstate(divide="ignore", invalid="ignore"):
                g = 1.0 + C.HIGHLAND_LOG * np.log(s / (C.RADIATION_LENGTH * beta2))
                return np.where(s > 0, C.HIGHLAND_P0**2 * f * g * g, 0.0)

        var = np.maximum(highland(f_to, s_to) - highland(f_from, s_from), 0.0)
        theta = np.sqrt(var)[:, None] * rng.standard_normal((n_steps, 2))
        quats[kicked] = K.small_rotations(theta[:, 0], theta[:, 1])
    else:
        quats[kicked] = (1.0, 0.0, 0.0, 0.0)
    orient = K.segmented_prefix_product(quats, point_start[point_particle])
    direction = K.quat_z_axis(orient)
    step_point = np.arange(n_steps) + step_particle  # point at the start of each step
    chord = K.normalize(direction[step_point] + direction[step_point + 1])

    # positions and times at the points
    dt = ds / (np.sqrt(beta2) * C.SPEED_OF_LIGHT)
    cum_x = np.concatenate([np.zeros((1, 3)), np.cumsum(ds[:, None] * chord, axis=0)])
    cum_t = np.concatenate([[0.0], np.cumsum(dt)])
    point_step = step_start[point_particle] + point_k
    base = step_start[point_particle]
    points = batch.pos[point_particle] + cum_x[point_step] - cum_x[base]
    point_time = batch.time[point_particle] + cum_t[point_step] - cum_t[base]
    point_s = cum_s[point_step] - cum_s[base]

    # the bounding box: first point outside ends the particle
    n_pts = n_steps_p + 1
    if cfg.bounding_box is not None:
        outside = ~inside_box(points, cfg.bounding_box)
        k_exit = np.minimum.reduceat(np.where(outside, point_k, n_points + 1), point_start)
    else:
        k_exit = np.full(n, n_points + 1)
    escaped = k_exit < n_pts
    step_k = np.arange(n_steps) - step_start[step_particle]
    limit = k_exit[step_particle]
    keep = step_k < limit - 1
    cross = step_k == limit - 1
    frac = np.ones(n_steps)
    if cross.any():
        dist = _box_exit(points[step_point[cross]], chord[cross], cfg.bounding_box)
        frac[cross] = np.clip(dist / np.maximum(ds[cross], 1e-12), 0.0, 1.0)
    used = keep | cross

    # step losses with fluctuations, rescaled per particle so that the steps it makes inside the box (the
    # crossing step in proportion) add up to the energy it loses there: deposits + escape stay exact
    mean_de = t_hi - t_lo
    if cfg.enable_loss_fluctuations and n_steps:
        de = fluctuate(mean_de, ds, beta2, _w_max(t_mid, s_step, cfg), rng)
        weight = np.where(used, frac, 0.0)
        want = np.bincount(step_particle, mean_de * weight, minlength=n)
        got = np.bincount(step_particle, de * weight, minlength=n)
        scale = np.divide(want, got, out=np.ones(n), where=got > 0)
        de = de * scale[step_particle]
    else:
        de = mean_de
    x_dep = points[step_point[used]] + (0.5 * frac[used] * ds[used])[:, None] * chord[used]
    t_dep = point_time[step_point[used]] + 0.5 * frac[used] * dt[used]
    dep_parts = [(x_dep, t_dep, de[used] * frac[used], ds[used] * frac[used], batch.track[step_particle[used]],
                  False)]

    # end of each particle
    last_point = point_start + n_steps_p
    end_pos = points[last_point].copy()
    end_time = point_time[last_point].copy()
    end_dir = direction[last_point].copy()
    length = point_s[last_point].copy()
    last_seg = np.cumsum(np.bincount(segs.particle, minlength=n)) - 1
    end_kinetic = segs.t_end[last_seg].copy()
    end_state = segs.kind[last_seg].copy()
    ci = np.nonzero(cross)[0]
    cp = step_particle[ci]
    end_pos[cp] = points[step_point[ci]] + (frac[ci] * ds[ci])[:, None] * chord[ci]
    end_time[cp] = point_time[step_point[ci]] + frac[ci] * dt[ci]
    end_dir[cp] = chord[ci]
    length[cp] = s_from[ci] + frac[ci] * ds[ci]
    end_kinetic[cp] = t_hi[ci] - frac[ci] * (t_hi[ci] - t_lo[ci])
    out_at_start = escaped & (k_exit == 0)
    end_kinetic[out_at_start] = batch.kinetic[out_at_start]
    end_pos[out_at_start] = batch.pos[out_at_start]
    end_time[out_at_start] = batch.time[out_at_start]
    length[out_at_start] = 0.0
    end_state[escaped] = ESCAPED

    # e+- that stopped: what is left below the cut is deposited at the end point
    rest = np.nonzero((end_state == STOP) & IS_LEPTON_E[sp] & (end_kinetic > 0))[0]
    if rest.size:
        dx = local_dx(end_kinetic[rest])
        dep_parts.append((end_pos[rest], end_time[rest], end_kinetic[rest], dx, batch.track[rest], True))
        end_kinetic[rest] = 0.0

    # discrete events inside the box
    seg_end_point = np.cumsum(nst) - step_start[segs.particle]  # local point index where a segment ends
    is_event = (segs.kind == DELTA) | (segs.kind == BREMS)
    ev = np.nonzero(is_event & (seg_end_point < k_exit[segs.particle]))[0]
    ev_pt = point_start[segs.particle[ev]] + seg_end_point[ev]
    events = Events(
        particle=segs.particle[ev], kind=segs.kind[ev], pos=points[ev_pt], time=point_time[ev_pt],
        direction=direction[ev_pt], kinetic=segs.t_end[ev], energy=segs.energy[ev],
    )
    deposits = Deposits(
        *(np.concatenate([p[0][:, j] for p in dep_parts]) for j in range(3)),
        np.concatenate([p[1] for p in dep_parts]),
        np.concatenate([p[2] for p in dep_parts]),
        np.concatenate([p[3] for p in dep_parts]),
        np.concatenate([p[4] for p in dep_parts]).astype(np.int32),
        np.concatenate([np.full(len(p[2]), p[5]) for p in dep_parts]),
    )
    return ChargedResult(deposits, events, end_pos, end_time, end_dir, end_kinetic, end_state, length)


__all__ = [
    "CAP",
    "DECAY",
    "DELTA",
    "ESCAPED",
    "INELASTIC",
    "STOP",
    "Batch",
    "ChargedResult",
    "Events",
    "inside_box",
    "tables_for",
    "transport_charged",
]

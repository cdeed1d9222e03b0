"""Stopping powers, discrete-process rates and range tables for charged particles in liquid argon.

* Heavy particles (mu, pi, K, p): the Bethe formula with the Sternheimer
  density effect and the exact T_max (PDG "Passage of particles through
  matter", eqs. 34.5 and 34.12 for the loss restricted to transfers below a
  cut). Shell and Barkas corrections are left out; below beta*gamma = 0.05 the
  stopping power is continued as sqrt(T) (velocity-proportional), which only
  affects the last few microns of a range.
* Electrons and positrons: collision loss from the ICRU-37 (Berger-Seltzer)
  formula with the density effect, made restricted by subtracting the Moller
  cross section above the delta-ray cut; radiative loss from the complete
  screening bremsstrahlung spectrum dN/dk = (1/X0 k)(4/3 - 4/3 y + y^2),
  y = k/E, restricted to photons below the bremsstrahlung threshold. Its full
  integral is E/X0 at every energy, an overestimate below ~50 MeV.

Everything is tabulated once per process (and set of thresholds) on a log grid
of kinetic energy; :class:`SpeciesTables` gives vectorised look-ups for mixed
particle species by a single ``np.interp`` on offset-concatenated tables.
Units: MeV, cm.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from larseg.physics import constants as C

#: Charged species transported by :mod:`larseg.physics.charged`, in table order.
SPECIES_PDG = (C.ELECTRON, C.POSITRON, C.MUON_MINUS, C.MUON_PLUS, C.PION_MINUS, C.PION_PLUS,
               C.KAON_MINUS, C.KAON_PLUS, C.PROTON)
SPECIES_MASS = np.array([C.ELECTRON_MASS, C.ELECTRON_MASS, C.MUON_MASS, C.MUON_MASS, C.PION_MASS, C.PION_MASS,
                         C.KAON_MASS, C.KAON_MASS, C.PROTON_MASS])
IS_LEPTON_E = np.array([True, True, False, False, False, False, False, False, False])
SPIN_HALF = np.array([True, True, True, True, False, False, False, False, True])
_SORTED_PDG = np.array(sorted(SPECIES_PDG))
_SORTED_INDEX = np.array([SPECIES_PDG.index(p) for p in sorted(SPECIES_PDG)])

#: Discrete processes of the charged transport (columns of the rate tables).
DELTA, BREMS, INELASTIC, DECAY = 0, 1, 2, 3
N_PROCESSES = 4

# K/2 (Z/A) rho [MeV/cm]: the prefactor of Bethe and Moller per unit length
_XI_PER_CM = 0.5 * C.BETHE_K * C.LAR_Z_OVER_A * C.LAR_DENSITY

_GRID = np.logspace(-4.0, 5.0, 9 * 120 + 1)  # kinetic energy grid [MeV]
_BG_LOW_HEAVY = 0.05  # below this beta*gamma, heavy-particle stopping ~ sqrt(T)
_T_LOW_ELECTRON = 1e-3  # MeV, same for e+-


def species_index(pdg) -> np.ndarray:
    """Row of each PDG code in the species tables (raises for a code that is not a charged species)."""
    pdg = np.asarray(pdg)
    pos = np.clip(np.searchsorted(_SORTED_PDG, pdg), 0, len(_SORTED_PDG) - 1)
    if not np.all(_SORTED_PDG[pos] == pdg):
        bad = np.asarray(pdg)[_SORTED_PDG[pos] != pdg]
        raise ValueError(f"PDG codes {sorted(set(bad.tolist()))} are not transported as charged particles")
    return _SORTED_INDEX[pos]


def kinematics(t: np.ndarray, mass) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(beta^2, gamma, momentum [MeV/c]) for kinetic energies ``t`` [MeV]."""
    gamma = 1.0 + t / mass
    beta2 = 1.0 - 1.0 / (gamma * gamma)
    return beta2, gamma, np.sqrt(t * (t + 2.0 * mass))


def density_effect(beta_gamma: np.ndarray) -> np.ndarray:
    """Sternheimer density-effect correction delta(beta*gamma) for liquid argon."""
    x = np.log10(np.maximum(beta_gamma, 1e-30))
    two_ln10 = 2.0 * np.log(10.0)
    mid = (two_ln10 * x - C.STERNHEIMER_CBAR
           + C.STERNHEIMER_A * np.clip(C.STERNHEIMER_X1 - x, 0, None) ** C.STERNHEIMER_K)
    high = two_ln10 * x - C.STERNHEIMER_CBAR
    low = C.STERNHEIMER_DELTA0 * 10.0 ** (2.0 * (x - C.STERNHEIMER_X0))
    return np.where(x >= C.STERNHEIMER_X1, high, np.where(x >= C.STERNHEIMER_X0, mid, low))


def t_max(t: np.ndarray, mass: float) -> np.ndarray:
    """Maximum kinetic energy [MeV] transferable to a free electron (PDG eq. 34.4)."""
    beta2, gamma, _ = kinematics(t, mass)
    me = C.ELECTRON_MASS
    if mass == me:  # Moller: the faster of two identical electrons keeps at least half
        return 0.5 * t
    return 2.0 * me * beta2 * gamma**2 / (1.0 + 2.0 * gamma * me / mass + (me / mass) ** 2)


def _heavy_bethe(t: np.ndarray, mass: float, cut: float) -> np.ndarray:
    """Restricted (transfers below ``cut``) Bethe stopping power [MeV/cm] without low-energy extension."""
    beta2, gamma, _ = kinematics(t, mass)
    bg2 = beta2 * gamma * gamma
    tmax = t_max(t, mass)
    w = np.minimum(cut, tmax)
    delta = density_effect(np.sqrt(bg2))
    i2 = C.LAR_MEAN_EXCITATION**2
    bracket = 0.5 * np.log(2.0 * C.ELECTRON_MASS * bg2 * w / i2) - 0.5 * beta2 * (1.0 + w / tmax) - 0.5 * delta
    return 2.0 * _XI_PER_CM / beta2 * bracket


def _moller_integrals(t: np.ndarray, cut: float) -> tuple[np.ndarray, np.ndarray]:
    """Moller rate [1/cm] and energy-loss rate [MeV/cm] of delta rays above ``cut`` for electrons of kinetic ``t``."""
    beta2, gamma, _ = kinematics(t, C.ELECTRON_MASS)
    a = np.minimum(cut / np.maximum(t, 1e-300), 0.5)
    b = 0.5
    g2 = ((gamma - 1.0) / gamma) ** 2
    c = (2.0 * gamma - 1.0) / gamma**2
    m0 = g2 * (b - a) + (1.0 / a - 1.0 / b) + (1.0 / (1.0 - b) - 1.0 / (1.0 - a)) \
        - c * (np.log(b / a) + np.log((1.0 - a) / (1.0 - b)))
    m1 = g2 * (b * b - a * a) / 2.0 + np.log(b / a) - c * (b - a) \
        + (1.0 / (1.0 - b) + np.log(1.0 - b)) - (1.0 / (1.0 - a) + np.log(1.0 - a)) \
        - c * ((-np.log(1.0 - b) - b) - (-np.log(1.0 - a) - a))
    pref = _XI_PER_CM / beta2
    active = t > 2.0 * cut
    rate = np.where(active, pref / np.maximum(t, 1e-300) * m0, 0.0)
    loss = np.where(active, pref * m1, 0.0)
    return rate, loss


def _electron_collision(t: np.ndarray, positron: bool, cut: float) -> np.ndarray:
    """Collision stopping power [MeV/cm] of e- or e+ (ICRU 37), restricted to transfers below ``cut``."""
    me = C.ELECTRON_MASS
    tau = t / me
    beta2, gamma, _ = kinematics(t, me)
    delta = density_effect(np.sqrt(beta2) * gamma)
    if positron:
        y = tau + 2.0
        f = 2.0 * np.log(2.0) - beta2 / 12.0 * (23.0 + 14.0 / y + 10.0 / y**2 + 4.0 / y**3)
    else:
        f = 1.0 - beta2 + (tau * tau / 8.0 - (2.0 * tau + 1.0) * np.log(2.0)) / (tau + 1.0) ** 2
    log_term = np.log(tau * tau * (tau + 2.0) / (2.0 * (C.LAR_MEAN_EXCITATION / me) ** 2))
    full = _XI_PER_CM / beta2 * (log_term + f - delta)
    if np.isinf(cut):
        return full
    _, hard = _moller_integrals(t, cut)
    return full - hard


def radiative_loss(t: np.ndarray, k_cut: float) -> np.ndarray:
    """Bremsstrahlung loss [MeV/cm] into photons below ``k_cut`` (complete-screening spectrum)."""
    e = t + C.ELECTRON_MASS
    k = np.minimum(k_cut, t)
    return (4.0 / 3.0 * k - 2.0 / 3.0 * k * k / e + k**3 / (3.0 * e * e)) / C.RADIATION_LENGTH


def brems_rate(t: np.ndarray, k_cut: float) -> np.ndarray:
    """Number of bremsstrahlung photons above ``k_cut`` emitted per cm by an e+- of kinetic ``t``."""
    e = t + C.ELECTRON_MASS
    yc = np.minimum(k_cut / e, 1.0)
    ym = t / e
    on = t > k_cut
    ymax = np.where(on, ym, yc)
    val = 4.0 / 3.0 * np.log(ymax / yc) - 4.0 / 3.0 * (ymax - yc) + 0.5 * (ymax**2 - yc**2)
    return np.where(on, val / C.RADIATION_LENGTH, 0.0)


def heavy_delta_rate(t: np.ndarray, mass: float, cut: float, spin_half: bool) -> np.ndarray:
    """Delta rays above ``cut`` per cm from a heavy particle (PDG eq. 34.6 integrated)."""
    beta2, _gamma, _ = kinematics(t, mass)
    tmax = t_max(t, mass)
    w = np.maximum(tmax, cut)
    e = t + mass
    val = (1.0 / cut - 1.0 / w) - beta2 / tmax * np.log(w / cut)
    if spin_half:
        val = val + (w - cut) / (2.0 * e * e)
    return np.where(tmax > cut, _XI_PER_CM / beta2 * val, 0.0)


def inelastic_scale(t: np.ndarray, pdg: int) -> np.ndarray:
    """Energy dependence of the inelastic cross section relative to the nuclear interaction length.

    A smooth turn-on (half at 20 MeV) for all hadrons; for pions a
    Delta(1232) enhancement peaking at 1.6x near 170 MeV kinetic (a simple
    shape, roughly following the pi-Ar reaction cross sections measured by
    LArIAT/ProtoDUNE; not a fit).
    """
    turn_on = 1.0 / (1.0 + (20.0 / np.maximum(t, 1e-9)) ** 2)
    if abs(pdg) == C.PION_PLUS:
        return turn_on * (1.0 + 0.6 * np.exp(-(((t - 170.0) / 90.0) ** 2)))
    return turn_on


def stopping_power(pdg: int, t, delta_cut: float = np.inf, brems_cut: float = np.inf) -> np.ndarray:
    """Mean energy loss [MeV/cm] of a charged particle of kinetic energy ``t`` [MeV] in liquid argon.

    With the default (infinite) cuts this is the total stopping power (for
    e+- collision plus radiative); finite cuts give the loss restricted to
    delta rays below ``delta_cut`` and photons below ``brems_cut``.
    """
    s = int(species_index(pdg))
    t = np.asarray(t, dtype=np.float64)
    mass = SPECIES_MASS[s]
    if IS_LEPTON_E[s]:
        t_low = _T_LOW_ELECTRON
        def raw(x):
            return _electron_collision(x, pdg == C.POSITRON, delta_cut) + radiative_loss(x, brems_cut)
    else:
        t_low = mass * (np.sqrt(1.0 + _BG_LOW_HEAVY**2) - 1.0)
        def raw(x):
            return _heavy_bethe(x, mass, delta_cut)
    low = raw(np.array([t_low]))[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(t >= t_low, raw(np.maximum(t, t_low)), low * np.sqrt(np.maximum(t, 0.0) / t_low))


def _cumulative(grid: np.ndarray, integrand_per_t: np.ndarray, first: float) -> np.ndarray:
    """first + integral of f dT on the log grid, by the trapezoid rule in ln T (f given at the grid)."""
    g = integrand_per_t * grid
    steps = 0.5 * (g[1:] + g[:-1]) * np.diff(np.log(grid))
    return first + np.concatenate([[0.0], np.cumsum(steps)])


class _Interp:
    """Piecewise-linear y(x) for several species at once: one np.interp on offset tables."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        x = np.asarray(x, dtype=np.float64)
        # strictly increasing within each row (plateaus of cumulative tables get a 1e-12 ramp)
        x = x + 1e-12 * np.arange(x.shape[1])[None, :] * (np.abs(x).max(axis=1, keepdims=True) + 1.0)
        self.lo, self.hi = x[:, 0].copy(), x[:, -1].copy()
        span = float(x.max() - x.min()) + 1.0
        self.offset = np.arange(x.shape[0]) * 2.0 * span - x[:, :1].ravel()
        self.x = (x + self.offset[:, None]).ravel()
        self.y = np.asarray(y, dtype=np.float64).ravel()

    def __call__(self, species: np.ndarray, values: np.ndarray) -> np.ndarray:
        v = np.clip(values, self.lo[species], self.hi[species])
        return np.interp(v + self.offset[species], self.x, self.y)


@dataclass
class SpeciesTables:
    """Tables for all charged species for one set of thresholds; see :func:`species_tables`.

    ``range_of`` / ``energy_of``: residual range [cm] under the restricted
    (continuous) loss and its inverse; ``depth_of`` / ``energy_of_depth``: the
    number of mean free paths of all discrete processes accumulated while
    slowing from T to 0, and its inverse; ``rates``: the rate [1/cm] of each
    discrete process; ``straggling``: the variance [cm^2] of the range from
    the fluctuations of the continuous loss (Bohr).
    """

    stop_energy: np.ndarray  # per species: kinetic energy where tracking stops [MeV]
    range_of: _Interp
    energy_of: _Interp
    depth_of: _Interp
    energy_of_depth: _Interp
    rates: list[_Interp]
    straggling: _Interp


def _grid_with_zero() -> np.ndarray:
    return np.concatenate([[0.0], _GRID])


def _process_rates(s: int, cut: float, k_cut: float, flags: tuple[bool, bool, bool, bool]) -> np.ndarray:
    """(N_PROCESSES, len(_GRID)) rates [1/cm] of species ``s``."""
    delta_on, brems_on, hadronic_on, decay_on = flags
    pdg, mass = SPECIES_PDG[s], SPECIES_MASS[s]
    t = _GRID
    rates = np.zeros((N_PROCESSES, len(t)))
    if delta_on:
        if IS_LEPTON_E[s]:
            rates[DELTA] = _moller_integrals(t, cut)[0]
        else:
            rates[DELTA] = heavy_delta_rate(t, mass, cut, bool(SPIN_HALF[s]))
    if brems_on and IS_LEPTON_E[s]:
        rates[BREMS] = brems_rate(t, k_cut)
    if hadronic_on and abs(pdg) in (C.PION_PLUS, C.PROTON):
        rates[INELASTIC] = inelastic_scale(t, pdg) / C.NUCLEAR_INTERACTION_LENGTH
    if decay_on and abs(pdg) in (C.PION_PLUS, C.KAON_PLUS):
        tau = C.PION_LIFETIME if abs(pdg) == C.PION_PLUS else C.KAON_LIFETIME
        _, _, p = kinematics(t, mass)
        rates[DECAY] = mass / (p * C.SPEED_OF_LIGHT * tau)  # 1 / (beta gamma c tau)
    return rates


@functools.lru_cache(maxsize=8)
def species_tables(delta_cut: float, brems_cut: float, electron_cut: float,
                   flags: tuple[bool, bool, bool, bool]) -> SpeciesTables:
    """Build (once per process and argument set) the tables of all charged species.

    ``flags`` = (delta rays, bremsstrahlung, hadronic, decays) enabled.
    ``delta_cut``/``brems_cut`` set the split between continuous and discrete
    loss; with a process disabled its loss stays continuous.
    """
    delta_on, brems_on = flags[0], flags[1]
    cut = delta_cut if delta_on else np.inf
    k_cut = brems_cut if brems_on else np.inf
    grid0 = _grid_with_zero()
    rng_rows, depth_rows, strag_rows, rate_rows = [], [], [], []
    for s, pdg in enumerate(SPECIES_PDG):
        mass = SPECIES_MASS[s]
        dedx = stopping_power(pdg, _GRID, cut, k_cut)
        t_low = _T_LOW_ELECTRON if IS_LEPTON_E[s] else mass * (np.sqrt(1.0 + _BG_LOW_HEAVY**2) - 1.0)
        s_low = float(stopping_power(pdg, np.array([t_low]), cut, k_cut)[0])
        r0 = 2.0 * np.sqrt(_GRID[0] * t_low) / s_low  # range of the sqrt(T) part below the grid
        rng_rows.append(np.concatenate([[0.0], _cumulative(_GRID, 1.0 / dedx, r0)]))
        rates = _process_rates(s, delta_cut, brems_cut, flags)
        rate_rows.append(np.concatenate([np.zeros((N_PROCESSES, 1)), rates], axis=1))
        depth_rows.append(np.concatenate([[0.0], _cumulative(_GRID, rates.sum(axis=0) / dedx, 0.0)]))
        beta2, _, _ = kinematics(_GRID, mass)
        w = np.minimum(t_max(_GRID, mass), cut)
        var_per_cm = _XI_PER_CM / beta2 * w * (1.0 - 0.5 * beta2)  # Bohr variance [MeV^2/cm]
        strag_rows.append(np.concatenate([[0.0], _cumulative(_GRID, var_per_cm / dedx**3, 0.0)]))
    grid = np.broadcast_to(grid0, (len(SPECIES_PDG), len(grid0)))
    ranges, depths = np.array(rng_rows), np.array(depth_rows)
    rates = np.array(rate_rows)
    stop = np.where(IS_LEPTON_E, electron_cut, 0.0)
    return SpeciesTables(
        stop_energy=stop,
        range_of=_Interp(grid, ranges),
        energy_of=_Interp(ranges, grid),
        depth_of=_Interp(grid, depths),
        energy_of_depth=_Interp(depths, grid),
        rates=[_Interp(grid, rates[:, k]) for k in range(N_PROCESSES)],
        straggling=_Interp(grid, np.array(strag_rows)),
    )


@functools.cache
def _csda_table(pdg: int) -> tuple[np.ndarray, np.ndarray]:
    mass = SPECIES_MASS[int(species_index(pdg))]
    dedx = stopping_power(pdg, _GRID)
    t_low = _T_LOW_ELECTRON if abs(pdg) == C.ELECTRON else mass * (np.sqrt(1.0 + _BG_LOW_HEAVY**2) - 1.0)
    s_low = float(stopping_power(pdg, np.array([t_low]))[0])
    r0 = 2.0 * np.sqrt(_GRID[0] * t_low) / s_low
    return _grid_with_zero(), np.concatenate([[0.0], _cumulative(_GRID, 1.0 / dedx, r0)])


def csda_range(pdg: int, t) -> np.ndarray:
    """CSDA range [cm] (mean path length, total stopping power) of kinetic energy ``t`` [MeV]."""
    grid, rng = _csda_table(int(pdg))
    return np.interp(np.asarray(t, dtype=np.float64), grid, rng)


def local_dx(energy, pdg: int = C.ELECTRON) -> np.ndarray:
    """Length [cm] credited to a local deposit of ``energy`` (a particle below its tracking cut): the CSDA
    range of an electron (at least 10 um) or, for ``pdg`` a proton, of a proton (at least 1 um)."""
    floor = 1e-4 if int(pdg) == C.PROTON else 1e-3
    return np.maximum(csda_range(int(pdg), energy), floor)


def kinetic_for_range(pdg: int, r) -> np.ndarray:
    """Kinetic energy [MeV] whose CSDA range is ``r`` [cm]: the inverse of :func:`csda_range`."""
    grid, rng = _csda_table(int(pdg))
    return np.interp(np.asarray(r, dtype=np.float64), rng, grid)

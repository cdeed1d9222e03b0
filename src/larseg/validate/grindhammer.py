"""The Grindhammer-Peters parameterisation of mean electron showers in a homogeneous medium.

Reference: G. Grindhammer and S. Peters, "The parameterized simulation of
electromagnetic showers in homogeneous and sampling calorimeters",
hep-ex/0001020 (1993), fitted to detailed GEANT simulations; the parameter
values below are those Geant4 ships in GFlash (``GVFlashHomoShowerTuning``).
larseg uses it as an outside, material-dependent reference for its showers in
argon (Z = 18): the longitudinal gamma-function profile and the two-component
radial profile, whose integral gives the lateral containment.

Definitions (E in GeV, y = E/E_c, t in X0, r in Moliere radii, tau = t/T):

* longitudinal: ``(1/E) dE/dt = (b t)^(a-1) b exp(-b t) / Gamma(a)``,
  ``T = ln y + t1``, ``a = a1 + (a2 + a3/Z) ln y``, ``b = (a-1)/T``;
* radial at depth t: ``f(r) = p g(r, R_C) + (1-p) g(r, R_T)`` with
  ``g(r, R) = 2 r R^2 / (r^2 + R^2)^2``, whose integral from 0 to r is
  ``r^2 / (r^2 + R^2)``; ``R_C = z1 + z2 tau``,
  ``R_T = k1 (exp(k3 (tau - k2)) + exp(k4 (tau - k2)))``,
  ``p = p1 exp((p2 - tau)/p3 - exp((p2 - tau)/p3))``.

The parameterisation describes GeV calorimeter showers; a few hundred MeV
(T of about 1 X0 in argon) is an extrapolation.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from larseg.physics import constants as C

ARGON_Z = 18.0
SOURCE = ("Grindhammer & Peters, hep-ex/0001020 (GEANT-fitted mean showers, homogeneous media; "
          "parameter values of Geant4 GFlash)")

# longitudinal
T1, A1, A2, A3 = -0.812, 0.81, 0.458, 2.26
# radial: core radius, tail radius, core weight
RC1, RC2, RC3, RC4 = 0.0251, 0.00319, 0.1162, -0.000381
RT1, RT2, RT3, RT4, RT5, RT6 = 0.659, -0.00309, 0.645, -2.59, 0.3585, 0.0412
WC1, WC2, WC3, WC4, WC5, WC6 = 2.632, -0.00094, 0.401, 0.00187, 1.313, -0.0686


def longitudinal(energy: float, z: float = ARGON_Z, critical_energy: float = C.CRITICAL_ENERGY
                 ) -> tuple[float, float, float]:
    """(T, alpha, beta) of the mean profile of an electron of ``energy`` MeV: depth of maximum T [X0]."""
    ln_y = np.log(energy / critical_energy)
    t_max = ln_y + T1
    alpha = A1 + (A2 + A3 / z) * ln_y
    if t_max <= 0 or alpha <= 1:
        raise ValueError(f"{energy} MeV is below the range of the Grindhammer-Peters parameterisation")
    return float(t_max), float(alpha), float((alpha - 1.0) / t_max)


def profile(t: np.ndarray, energy: float, z: float = ARGON_Z, critical_energy: float = C.CRITICAL_ENERGY
            ) -> np.ndarray:
    """(1/E) dE/dt [1/X0] at depths ``t`` [X0]."""
    _, a, b = longitudinal(energy, z, critical_energy)
    t = np.maximum(np.asarray(t, dtype=np.float64), 1e-12)
    return np.exp(a * np.log(b) + (a - 1.0) * np.log(t) - b * t - gammaln(a))


def radial_at(tau: np.ndarray, energy: float, z: float = ARGON_Z) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R_C, R_T, p) [Moliere radii] at relative depths ``tau`` = t/T."""
    tau = np.asarray(tau, dtype=np.float64)
    ln_e = np.log(energy / 1000.0)
    r_core = RC1 + RC2 * ln_e + (RC3 + RC4 * z) * tau
    k1, k4 = RT1 + RT2 * z, RT5 + RT6 * ln_e
    r_tail = k1 * (np.exp(RT4 * (tau - RT3)) + np.exp(k4 * (tau - RT3)))
    p1, p2, p3 = WC1 + WC2 * z, WC3 + WC4 * z, WC5 + WC6 * ln_e
    u = (p2 - tau) / p3
    weight = np.clip(p1 * np.exp(u - np.exp(u)), 0.0, 1.0)
    return r_core, r_tail, weight


def containment(energy: float, radius: float, z: float = ARGON_Z, critical_energy: float = C.CRITICAL_ENERGY,
                depth: float = 60.0) -> float:
    """Fraction of the energy of an electron shower of ``energy`` MeV within ``radius`` Moliere radii of its
    axis, integrated over depths 0..``depth`` X0."""
    t_max, _, _ = longitudinal(energy, z, critical_energy)
    t = np.linspace(1e-4, depth, 60001)
    f = profile(t, energy, z, critical_energy)
    r_core, r_tail, weight = radial_at(t / t_max, energy, z)
    r2 = radius * radius
    inside = weight * r2 / (r2 + r_core**2) + (1.0 - weight) * r2 / (r2 + r_tail**2)
    return float(np.trapezoid(f * inside, t) / np.trapezoid(f, t))


__all__ = ["ARGON_Z", "SOURCE", "containment", "longitudinal", "profile", "radial_at"]

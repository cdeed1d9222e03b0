"""Fluctuations of the continuous energy loss of one step.

The loss below the delta-ray cut W = min(T_max, delta_threshold) in a step of
length dx fluctuates around its mean. With Landau's width parameter
xi = (K/2)(Z/A) rho dx / beta^2 and kappa = xi / W:

* kappa < 1/3 (thin steps, fast particles): a Landau distribution truncated at
  lambda_max = W / xi (collisions above W are the explicit delta rays), shifted
  so that its mean is the mean restricted loss:
  de = mean + xi (lambda - <lambda | lambda < lambda_max>). Because the
  truncation follows W/xi, this approaches the Vavilov shape as kappa grows.
* kappa >= 1/3 (slow particles near the Bragg peak): a Gaussian of the Bohr
  variance xi W (1 - beta^2 / 2).

Negative samples are set to zero. Landau quantiles come from
``scipy.stats.landau`` tabulated once per process.
"""

from __future__ import annotations

import functools

import numpy as np

from larseg.physics import constants as C

_XI_PER_CM = 0.5 * C.BETHE_K * C.LAR_Z_OVER_A * C.LAR_DENSITY
_KAPPA_GAUSS = 1.0 / 3.0


@functools.lru_cache(maxsize=1)
def _landau_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lambda grid, CDF, cumulative first moment) of the standard Landau distribution."""
    from scipy import stats

    lam = np.concatenate([np.linspace(-6.0, 20.0, 2601)[:-1], np.logspace(np.log10(20.0), 8.0, 1200)])
    cdf = stats.landau.cdf(lam)
    pdf = stats.landau.pdf(lam)
    moment = np.concatenate([[0.0], np.cumsum(0.5 * (lam[1:] * pdf[1:] + lam[:-1] * pdf[:-1]) * np.diff(lam))])
    return lam, cdf, moment


def landau_width(dx: np.ndarray, beta2: np.ndarray) -> np.ndarray:
    """Landau's xi [MeV] for steps ``dx`` [cm] at velocity^2 ``beta2`` (unit charge)."""
    return _XI_PER_CM * dx / beta2


def fluctuate(mean: np.ndarray, dx: np.ndarray, beta2: np.ndarray, w_max: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """Fluctuated step losses [MeV] around ``mean`` for steps ``dx`` [cm], velocity^2 ``beta2``.

    ``w_max`` [MeV] is the largest single transfer kept in the continuous
    loss. Returns non-negative losses whose expectation is close to ``mean``.
    """
    n = len(mean)
    out = np.empty(n)
    xi = landau_width(dx, beta2)
    kappa = xi / np.maximum(w_max, 1e-300)
    gauss = kappa >= _KAPPA_GAUSS
    g = np.nonzero(gauss)[0]
    sigma = np.sqrt(xi[g] * w_max[g] * (1.0 - 0.5 * beta2[g]))
    out[g] = mean[g] + sigma * rng.standard_normal(len(g))
    land = np.nonzero(~gauss)[0]
    lam, cdf, moment = _landau_table()
    lam_max = np.minimum(w_max[land] / xi[land], lam[-1])
    f_max = np.interp(lam_max, lam, cdf)
    mean_lam = np.interp(lam_max, lam, moment) / f_max
    u = rng.random(len(land)) * f_max
    sample = np.interp(u, cdf, lam)
    out[land] = mean[land] + xi[land] * (sample - mean_lam)
    return np.maximum(out, 0.0)

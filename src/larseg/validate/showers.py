"""EM showers against published parameterisations (``larseg validate``, group "EM showers").

Electrons and photons are shot along +z from the origin into unbounded argon
(``bounding_box`` far away), their truth deposits (before recombination) are
histogrammed, and compared with:

* **longitudinal maximum**: PDG "Passage of particles through matter" (2024,
  eq. 34.36, after Longo): ``t_max = ln(E/E_c) + C``, C = -0.5 for e-, +0.5 for
  photons, E_c = 32.84 MeV (PDG argon table); the mean profile is fitted with the
  gamma function ``dE/dt = E b (bt)^(a-1) e^(-bt) / Gamma(a)``, t_max = (a-1)/b;
* **Grindhammer-Peters** (hep-ex/0001020, the GEANT-fitted parameterisation
  Geant4's GFlash uses; ``larseg.validate.grindhammer``): for e- of 1 and 2 GeV
  in argon (Z = 18), the depth of the maximum T, the centre of gravity <t> and
  the lateral containment within 1 and 2 Moliere radii;
* **lateral containment, rule of thumb**: PDG: about 90% of the energy within
  one Moliere radius (R_M = 9.04 cm), ~95% within 2 R_M (the issue's
  reference). It is not material-specific: Grindhammer-Peters give 81.7% and
  91.8% for 1 GeV in argon, and larseg is compared with both;
* **visible energy**: in unbounded argon every MeV ends in a deposit
  (energy conservation);
* **number of charged particles**: e+- above the 1 MeV tracking cut per GeV
  (information: grows linearly with E, as in Rossi's approximation B);
* **trunk dE/dx**: the first 2.5 cm of an electron shower is one minimum-
  ionising particle, of a photon shower an e+e- pair (two): ArgoNeuT measured
  peaks near 2.1 and 4.2 MeV/cm (R. Acciarri et al., PRD 95, 072005 (2017)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from larseg.atomic import save_figure
from larseg.physics import PhysicsConfig, transport
from larseg.physics import constants as C
from larseg.physics.transport import mass_of
from larseg.validate import grindhammer as GP
from larseg.validate.checks import Check

GROUP = "EM showers"
_FAR = (-1e4, 1e4, -1e4, 1e4, -1e4, 1e4)
ENERGIES = (100.0, 300.0, 1000.0, 2000.0)
_PDG_SOURCE = "PDG RPP 2024, Passage of particles through matter, eq. 34.36 (Longo), E_c = 32.84 MeV"


def shoot(pdg: int, energy: float, n: int, seed: int, cfg: PhysicsConfig | None = None):
    """``n`` showers of kinetic energy ``energy`` [MeV] along +z from the origin in unbounded argon."""
    cfg = cfg if cfg is not None else PhysicsConfig(bounding_box=_FAR)
    m = mass_of([pdg])[0]
    p = np.sqrt(energy * (energy + 2.0 * m))
    prim = np.array([(pdg, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, p)], dtype=np.float64)
    return [transport(prim, np.random.default_rng((seed, i)), cfg) for i in range(n)]


def gamma_fit_tmax(events, energy: float) -> tuple[float, np.ndarray, np.ndarray, tuple[float, float]]:
    """Depth of the maximum [X0] of the gamma-function fit to the mean profile; also the profile."""
    from scipy import optimize
    from scipy.special import gammaln

    edges = np.arange(0.0, 30.0, 0.25)
    prof = np.zeros(len(edges) - 1)
    for ev in events:
        prof += np.histogram(ev.deposits.z / C.RADIATION_LENGTH, bins=edges, weights=ev.deposits.de)[0]
    prof /= len(events) * energy * np.diff(edges)
    t = 0.5 * (edges[1:] + edges[:-1])

    def shape(t, a, b):
        return np.exp(a * np.log(b) + (a - 1) * np.log(t) - b * t - gammaln(a))

    (a, b), _ = optimize.curve_fit(shape, t, prof, p0=(3.0, 0.5), bounds=([1.01, 0.05], [50.0, 5.0]))
    return (a - 1.0) / b, t, prof, (a, b)


def containment(events, radius: float) -> float:
    r = np.concatenate([np.hypot(ev.deposits.x, ev.deposits.y) for ev in events])
    de = np.concatenate([ev.deposits.de for ev in events])
    return float(de[r < radius].sum() / de.sum())


def trunk_dedx(events, length: float = 2.5, radius: float = 1.0, pitch: float = 0.5) -> np.ndarray:
    """Per shower: the median dE/dx [MeV/cm] of ``pitch`` slices of the first ``length`` cm of the trunk.

    The trunk starts at the vertex for electrons, at the conversion point for
    photons (the start of the first e+e- pair), along the initial direction (+z);
    deposits within ``radius`` of the axis count.
    """
    out = []
    for ev in events:
        p = ev.particles
        if p["pdg"][0] == C.PHOTON:
            conv = np.nonzero((p["process"] == b"conv") & (p["parent_id"] == 0))[0]
            if not conv.size:
                continue
            start = p["start"][conv[0], :3]
        else:
            start = np.zeros(3)
        d = ev.deposits
        s = d.z - start[2]
        r = np.hypot(d.x - start[0], d.y - start[1])
        near = (s >= 0) & (s < length) & (r < radius)
        slices = np.histogram(s[near], bins=np.arange(0.0, length + 1e-9, pitch), weights=d.de[near])[0] / pitch
        out.append(np.median(slices))
    return np.array(out)


def electron_scattering(kinetic: float, thickness: float, n: int, seed: int = 1) -> tuple[float, float]:
    """(larseg, Highland) rms lateral displacement [cm] of e- of ``kinetic`` MeV leaving a slab ``thickness`` cm
    thick (no delta rays, bremsstrahlung or loss fluctuations): Highland (PDG eq. 34.15) theta0 at the initial
    momentum and y_rms = x theta0 / sqrt(3) (PDG eq. 34.20)."""
    cfg = PhysicsConfig(bounding_box=(-1e3, 1e3, -1e3, 1e3, -1.0, thickness), enable_delta_rays=False,
                        enable_bremsstrahlung=False, enable_loss_fluctuations=False)
    m = C.ELECTRON_MASS
    p = np.sqrt(kinetic * (kinetic + 2 * m))
    ev = transport(np.array([(C.ELECTRON, 0, 0, 0, 0, 0, 0, p)] * n, dtype=np.float64), np.random.default_rng(seed),
                   cfg)
    end = ev.particles["end"][:n]
    out = end[:, 2] > thickness - 1e-6
    beta = p / (kinetic + m)
    x = thickness / C.RADIATION_LENGTH
    theta0 = C.HIGHLAND_P0 / (beta * p) * np.sqrt(x) * (1 + C.HIGHLAND_LOG * np.log(x / beta**2))
    return float(end[out, 0].std()), float(thickness * theta0 / np.sqrt(3.0))


def run(out_dir: Path, quick: bool = False) -> list[Check]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    n_of = {100.0: 40, 300.0: 40, 1000.0: 40, 2000.0: 40} if not quick else {100.0: 10, 300.0: 6, 1000.0: 6, 2000.0: 3}
    energies = ENERGIES if not quick else (100.0, 1000.0)
    checks: list[Check] = []
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    counts = {}
    for pdg, name, offset in ((C.ELECTRON, "e-", -0.5), (C.PHOTON, "gamma", 0.5)):
        for energy in energies:
            events = shoot(pdg, energy, n_of[energy], seed=int(energy) + (7 if pdg == C.PHOTON else 0))
            t_max, t, prof, _ = gamma_fit_tmax(events, energy)
            ref = np.log(energy / C.CRITICAL_ENERGY) + offset
            checks.append(Check(GROUP, f"shower maximum, {name} {energy / 1000:g} GeV", round(t_max, 3), round(ref, 3),
                                0.5, "X0", _PDG_SOURCE, figure="showers.png",
                                detail=f"gamma-function fit to the mean profile of {len(events)} showers",
                                explained=_PHOTON_TMAX_NOTE if pdg == C.PHOTON and abs(t_max - ref) > 0.5 else ""))
            axes[0].plot(t, prof, label=f"{name} {energy / 1000:g} GeV", ls="-" if pdg == C.ELECTRON else "--")
            if pdg == C.ELECTRON:
                counts[energy] = np.mean([np.sum((np.abs(ev.particles["pdg"]) == C.ELECTRON)
                                                 & (ev.particles["kinetic"] >= 1.0)) for ev in events])
                visible = np.mean([ev.deposits.de.sum() for ev in events]) / energy
                checks.append(Check(GROUP, f"visible energy, e- {energy / 1000:g} GeV (unbounded argon)",
                                    round(visible, 5), 1.0, 0.005, "of E", "energy conservation"))
            if pdg == C.ELECTRON and energy >= 1000.0:
                checks.extend(_grindhammer_checks(events, energy, axes))
            if energy == 1000.0 and pdg == C.ELECTRON:
                for k, ref_c in ((1.0, 0.90), (2.0, 0.95)):
                    value = containment(events, k * C.MOLIERE_RADIUS)
                    axes[1].plot([k], [ref_c], "rs")
                    checks.append(Check(
                        GROUP, f"energy within {k:g} R_M, e- 1 GeV (rule of thumb)", round(value, 4), ref_c, 0.02,
                        "of E", "PDG RPP 2024 sec. 34.5 (about 90% within R_M = 9.04 cm); 95% within 2 R_M",
                        figure="showers.png",
                        detail=f"{len(events)} showers; deposits before recombination",
                        explained=_CONTAINMENT_NOTE if abs(value - ref_c) > 0.02 else ""))
    axes[0].set(xlabel="depth t [X0]", ylabel="(1/E) dE/dt", title="Mean longitudinal profiles")
    axes[0].legend(fontsize=7)
    axes[1].set(xlabel="radius [R_M]", ylabel="contained fraction",
                title="Lateral containment (red: PDG rule of thumb)")
    axes[1].legend(fontsize=7)
    es = sorted(counts)
    checks.append(Check(GROUP, "e+- above 1 MeV per GeV of e- energy", round(counts[es[-1]] / (es[-1] / 1000), 1),
                        None, None, "per GeV", "Rossi approximation B: proportional to E (information)",
                        detail="; ".join(f"{e / 1000:g} GeV: {counts[e]:.1f}" for e in es)))
    ours, highland = electron_scattering(100.0, 2.0, 1000 if quick else 4000)
    checks.append(Check(GROUP, "e- multiple scattering: rms lateral displacement, 100 MeV after 2 cm", round(ours, 4),
                        round(highland, 4), round(0.05 * highland, 4), "cm",
                        "PDG RPP 2024 eqs. 34.15 (Highland), 34.20 (y_rms = x theta0 / sqrt 3)",
                        detail="delta rays, bremsstrahlung and fluctuations off; 5%: the slab's energy loss (~4 MeV) "
                        "and the statistics"))
    n_trunk = 40 if not quick else 8
    e_trunk = trunk_dedx(shoot(C.ELECTRON, 500.0, n_trunk, seed=91))
    g_trunk = trunk_dedx(shoot(C.PHOTON, 500.0, n_trunk, seed=92))
    bins = np.linspace(0.0, 10.0, 41)
    axes[2].hist(e_trunk, bins=bins, histtype="step", label="e- 0.5 GeV")
    axes[2].hist(g_trunk, bins=bins, histtype="step", label="gamma 0.5 GeV")
    axes[2].axvline(2.1, color="C0", ls=":")
    axes[2].axvline(4.2, color="C1", ls=":")
    axes[2].set(xlabel="trunk dE/dx, first 2.5 cm [MeV/cm]", ylabel="showers",
                title="e/gamma separation (dotted: ArgoNeuT)")
    axes[2].legend(fontsize=8)
    src = "ArgoNeuT, R. Acciarri et al., PRD 95, 072005 (2017): 1 MIP vs 2 MIP at the shower start"
    checks.append(Check(GROUP, "trunk dE/dx, e- 0.5 GeV (median)", round(float(np.median(e_trunk)), 3), 2.1, 0.4,
                        "MeV/cm", src, figure="showers.png", detail="median of 0.5 cm slices within 1 cm of the axis; "
                        "truth energy before recombination"))
    checks.append(Check(GROUP, "trunk dE/dx, gamma 0.5 GeV (median)", round(float(np.median(g_trunk)), 3), 4.2, 0.8,
                        "MeV/cm", src, figure="showers.png", detail="from the conversion point"))
    fig.tight_layout()
    save_figure(fig, out_dir / "showers.png", 90)
    plt.close(fig)
    return checks


def _grindhammer_checks(events, energy: float, axes) -> list[Check]:
    """larseg's mean e- shower of ``energy`` MeV against Grindhammer-Peters for argon: T, <t>, containment."""
    t_gp, a_gp, b_gp = GP.longitudinal(energy)
    t_max, t, prof, (a, b) = gamma_fit_tmax(events, energy)
    label = f"e- {energy / 1000:g} GeV"
    detail = f"gamma-function fit to the mean profile of {len(events)} showers (alpha {a:.2f}; GP {a_gp:.2f})"
    out = [Check(GROUP, f"shower maximum T, {label} (Grindhammer-Peters)", round(t_max, 3), round(t_gp, 3), 0.3,
                 "X0", GP.SOURCE, figure="showers.png", detail=detail),
           Check(GROUP, f"centre of gravity <t>, {label} (Grindhammer-Peters)", round(a / b, 3), round(a_gp / b_gp, 3),
                 0.5, "X0", GP.SOURCE, figure="showers.png", detail=detail)]
    axes[0].plot(t, GP.profile(t, energy), ":", color="grey", lw=1,
                 label=f"Grindhammer-Peters {energy / 1000:g} GeV")
    radii = np.linspace(0.1, 4.0, 40)
    style = "-" if energy == 1000.0 else "--"
    axes[1].plot(radii, [containment(events, k * C.MOLIERE_RADIUS) for k in radii], "k" + style,
                 label=f"larseg, {label}")
    axes[1].plot(radii, [GP.containment(energy, k) for k in radii], "b" + style, lw=1,
                 label=f"Grindhammer-Peters, {label}")
    for k in (1.0, 2.0):
        out.append(Check(GROUP, f"energy within {k:g} R_M, {label} (Grindhammer-Peters)",
                         round(containment(events, k * C.MOLIERE_RADIUS), 4), round(GP.containment(energy, k), 4),
                         0.02, "of E", GP.SOURCE + "; R_M = 9.04 cm (PDG)", figure="showers.png",
                         detail=f"{len(events)} showers; deposits before recombination"))
    return out


_PHOTON_TMAX_NOTE = (
    "Photon showers peak 0.4-0.8 X0 before the PDG's C = +0.5 at 1-2 GeV (40 showers; seed-to-seed spread "
    "+-0.3 X0, from the exponential conversion depth). A photon shower is an e+e- pair of about E/2 each after a "
    "mean 9/7 X0: Grindhammer-Peters' electron maximum for E/2 plus 9/7 X0 gives ln(E/E_c) - 0.2, where larseg "
    "lies; larseg's electron maxima agree with Grindhammer-Peters within 0.1 X0 (rows below).")


_CONTAINMENT_NOTE = (
    "The 90%/95% rule of thumb is not material-specific. The GEANT-fitted Grindhammer-Peters parameterisation "
    "for argon (Z = 18) gives 81.7% within 1 R_M and 91.8% within 2 R_M at 1 GeV, and larseg agrees with it "
    "within 2 points (rows above). Argon's halo is wide because its photon attenuation length (29 cm = 3.2 R_M "
    "near 10 MeV) is long relative to R_M: about half of the larseg energy outside R_M is deposited by photons "
    "that travelled one or more attenuation lengths, ~2% by 511 keV annihilation photons. "
    "See docs/validation.md, 'Lateral containment'.")


__all__ = ["ENERGIES", "containment", "gamma_fit_tmax", "run", "shoot", "trunk_dedx"]

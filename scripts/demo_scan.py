"""A demonstration scan for docs/scan.md: labels files made by a SCRIPTED scanner, not by a person.

    .venv/bin/python scripts/demo_scan.py data/michel-datalike.h5 data/michel.h5 -o demo-scan -n 30

No physicist is at hand in this repository, so the demonstration of Tables II/III uses two
scripted "scanners" that drive :class:`larseg.scan.session.ScanSession` on the collection plane,
labelling whole clusters as a person does with the cluster click (the script sends each
cluster's pixels):

* ``script-a`` clicks every 8-connected cluster of non-zero pixels and gives it the class most
  of its pixels have in the simulation truth (a person labels a Michel electron attached to its
  muon as one cluster, too, unless they take the brush);
* ``script-b`` works as a scanner who is shown the network (not blind): it starts from the
  network's labels ("start from the network") and relabels only the clusters whose network
  majority differs from their truth majority; where a cluster is right on the whole, the
  network's pixel-level mistakes stay (the bias the blind protocol of docs/scan.md avoids);
* clusters of one or two pixels are marked ``ignore`` by both, as blips unrelated to the
  studied particles.

Both need truth, so both "data" and "simulation" are simulated samples here (the data-like
preset stands in for data). The numbers this gives measure the cluster-level approximation and
the network, never a human scanner: docs/scan.md says so wherever they appear.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage

from larseg.data.handlabels import IGNORE
from larseg.scan.session import ScanSession

SCANNERS = ("script-a", "script-b")
MODEL = "models/larseg-sparse-cpu.pt"


def scan_file(source: Path, labels: Path, scanner: str, n_events: int, plane: int = 2, model: str = MODEL) -> int:
    with_net = scanner == "script-b"
    session = ScanSession([source], labels, scanner, planes=[plane], model=model if with_net else None)
    done = 0
    try:
        for i in range(min(n_events, len(session.events))):
            pl = session.plane(i, plane)
            if pl.truth is None:
                raise SystemExit(f"{source}: no simulation truth, the scripted scanner needs it")
            clusters, n = ndimage.label(pl.image > 0, structure=np.ones((3, 3), bool))
            flat_c, flat_t = clusters.reshape(-1), pl.truth.reshape(-1)
            if with_net:
                session.edit(i, plane, "network", 1)
                mine = session._stored(i, plane).dense().reshape(-1)
            for k in range(1, n + 1):
                pix = np.flatnonzero(flat_c == k)
                votes = np.bincount(flat_t[pix], minlength=3)
                code = IGNORE if len(pix) <= 2 else (1 if votes[1] >= votes[2] else 2)
                if with_net and code != IGNORE:
                    net_votes = np.bincount(mine[pix], minlength=4)
                    if (1 if net_votes[1] >= net_votes[2] else 2) == code:
                        continue  # the network's labels of this cluster are kept
                session.edit(i, plane, "pixels", int(code), pixels=pix.tolist())
            session.mark_done(i, True)
            done += 1
    finally:
        session.close()
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path, help="the sample standing in for data (e.g. data/michel-datalike.h5)")
    ap.add_argument("sim", type=Path, help="the simulation sample (e.g. data/michel.h5)")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("-n", "--events", type=int, default=30)
    ap.add_argument("--model", default=MODEL, help="the network script-b starts from")
    args = ap.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    for kind, source in (("data", args.data), ("sim", args.sim)):
        for scanner in SCANNERS:
            out = args.output / f"{kind}-{scanner}.h5"
            for old in (out, out.with_name(out.name + ".journal")):
                old.unlink(missing_ok=True)
            n = scan_file(source, out, scanner, args.events, model=args.model)
            print(f"wrote {out}: {n} events scanned by {scanner} (scripted)")


if __name__ == "__main__":
    main()

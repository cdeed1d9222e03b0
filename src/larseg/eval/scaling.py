"""``larseg study scaling``: robustness against a pixel-value scale (the paper's Figs. 10 and 17).

The paper multiplied every pixel of its data images by a constant factor (its
data and simulation differed by 20-30% in signal strength, Fig. 9) and reported
the ICPF mean and the per-class disagreement against the scale. Here every pixel
of a sample (after the usual zero suppression, which is not redone) is multiplied
by each factor and the sample is evaluated as by ``larseg evaluate``; each factor's
results are kept in ``OUT/scale/<factor>/`` and reused when the command is repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

from larseg.atomic import output_dir
from larseg.errors import DataFileError, LarsegError
from larseg.eval.evaluate import count_entries, evaluate_file, sample_name
from larseg.eval.io import load_model_info, write_json, write_text_atomic
from larseg.eval.tables import rows_csv
from larseg.provenance import provenance

DEFAULT_FACTORS = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)


def parse_factors(text: str) -> list[float]:
    try:
        factors = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise LarsegError(f"--factors {text!r}: expected comma-separated numbers, e.g. 0.7,0.8,1.0") from None
    if not factors or any(f <= 0 for f in factors):
        raise LarsegError(f"--factors {text!r}: need at least one positive factor")
    return sorted(set(factors))


def scaling_study(model, file: str | Path, out: str | Path, factors: Sequence[float] = DEFAULT_FACTORS, *,
                  plane: int | None = None, max_events: int | None = None, batch: int = 4, progress=None,
                  force: bool = False) -> dict:
    """Evaluate ``file`` at every scale factor; write ``scaling.json`` / ``.csv`` and ``fig10_scaling.png``."""
    # lazy: larseg.viz.eval_plots loads matplotlib (and selects its Agg backend); only the figure needs it
    from larseg.viz.eval_plots import plot_scaling

    if not Path(file).is_file():
        raise DataFileError(file, "no such file")
    out = Path(out)
    output_dir(out)
    info = load_model_info(model, plane)
    factors = sorted({float(f) for f in factors})
    if not factors or any(f <= 0 for f in factors):
        raise LarsegError("scale factors must be positive")
    n = count_entries(file) if max_events is None else min(count_entries(file), max_events)
    sample = sample_name(file)
    rows = []
    with (progress(n * len(factors)) if progress else nullcontext(lambda k=1: None)) as advance:
        for f in factors:
            r = evaluate_file(info, file, out / "scale" / f"{f:g}", key=sample, max_events=max_events, batch=batch,
                              scale=f, advance=advance, force=force)
            m = r.metrics
            rows.append({"factor": f, "icpf_mean": m["icpf_mean"], "icpf_q90": m["icpf_q90"],
                         "shower_error": m["shower_error"], "track_error": m["track_error"],
                         "events": m["n_images"]})
    figure = plot_scaling([r["factor"] for r in rows], [r["icpf_mean"] for r in rows],
                          [r["shower_error"] for r in rows], [r["track_error"] for r in rows],
                          out / "fig10_scaling.png", sample, n)
    result = {"sample": sample, "file": str(file), "plane": info.plane, "events": n, "rows": rows,
              "model": {"source": info.source, "fingerprint": info.fingerprint}, "provenance": provenance()}
    write_json(out / "scaling.json", result)
    write_text_atomic(out / "scaling.csv", rows_csv(rows))
    result["figure"] = figure
    return result

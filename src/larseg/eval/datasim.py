"""``larseg study data-sim``: nominal vs "data-like" simulation (the paper's Tables II/III, Figs. 8 and 16).

The paper compared the network on detector data and on simulation, both against
physicist labels. larseg has no detector data; its stand-in is a "data-like"
simulation (presets ``michel-datalike``, ``ccpi0-datalike``: lower gain, more noise,
more dead wires, coherent noise) labelled from the truth. Both samples are evaluated
as by ``larseg evaluate`` (results kept in ``OUT/samples/`` and reused), and the
study writes ``datasim.md`` / ``.csv`` / ``.json`` (a Table II/III-like table with the
paper's matching table beside it), ``datasim_icpf.png`` (Fig. 8a / 16a: area-normalised
ICPF distributions) and ``datasim_scores.png`` (Fig. 8b,c / 16b,c).
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from larseg.atomic import output_dir
from larseg.errors import DataFileError
from larseg.eval.evaluate import count_entries, evaluate_file, sample_keys
from larseg.eval.io import load_model_info, write_json, write_text_atomic
from larseg.eval.tables import COLUMNS, comparison_markdown, paper_table_for, rows_csv
from larseg.provenance import provenance


def icpf_mean_error(icpf: np.ndarray) -> float:
    """Standard error of the ICPF mean (``std / sqrt(n)``, ``ddof = 1``)."""
    x = np.asarray(icpf, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")


def data_sim_study(model, file_sim: str | Path, file_datalike: str | Path, out: str | Path, *,
                   plane: int | None = None, max_events: int | None = None, batch: int = 4, progress=None,
                   force: bool = False) -> dict:
    # lazy: larseg.viz.eval_plots loads matplotlib (and selects its Agg backend); only the figure needs it
    from larseg.viz.eval_plots import plot_icpf, plot_scores

    for f in (file_sim, file_datalike):
        if not Path(f).is_file():
            raise DataFileError(f, "no such file")
    out = Path(out)
    output_dir(out)
    info = load_model_info(model, plane)
    files = [Path(file_sim), Path(file_datalike)]
    keys = sample_keys(files)
    total = sum(count_entries(f) if max_events is None else min(count_entries(f), max_events) for f in files)
    with (progress(total) if progress else nullcontext(lambda n=1: None)) as advance:
        res = [evaluate_file(info, f, out / "samples" / k, key=k, max_events=max_events, batch=batch,
                             advance=advance, force=force) for f, k in zip(files, keys)]
    roles = ("Simulation", "Data-like simulation")
    columns = [(f"{role}: {r.sample}", "Simulation truth", "U-ResNet", {**r.metrics}) for role, r in zip(roles, res)]
    paper = paper_table_for(res[0].sample) or paper_table_for(res[1].sample)
    md = [f"Data/simulation comparison, plane {info.plane} ({info.source})", ""]
    md.append(comparison_markdown(columns, paper))
    errs = [icpf_mean_error(r.icpf()) for r in res]
    m0, m1 = (r.metrics["icpf_mean"] for r in res)
    diff = m1 - m0
    sig = diff / math.hypot(*errs) if all(math.isfinite(e) for e in errs) and math.hypot(*errs) > 0 else float("nan")
    md.append(f"ICPF mean: {100 * m0:.2f} +- {100 * errs[0]:.2f}% ({res[0].sample}) vs {100 * m1:.2f} +- "
              f"{100 * errs[1]:.2f}% ({res[1].sample}); difference {100 * diff:+.2f}% ({sig:.1f} standard errors).\n")
    rows = []
    for role, r, e in zip(roles, res, errs):
        row = {"role": role, "sample": r.sample, "file": r.file, "events": r.n_events}
        row.update({k: r.metrics[k] for k, _ in COLUMNS})
        row["icpf_mean_err"] = e
        rows.append(row)
    write_text_atomic(out / "datasim.md", "\n".join(md))
    write_text_atomic(out / "datasim.csv", rows_csv([{k: (None if isinstance(v, float) and not math.isfinite(v)
                                                          else v) for k, v in r.items()} for r in rows]))
    labels = [f"{role}: {r.sample} ({r.n_events} events)" for role, r in zip(roles, res)]
    figures = [
        plot_icpf([(lab, r.icpf()) for lab, r in zip(labels, res)], out / "datasim_icpf.png",
                  title="ICPF, simulation vs data-like simulation (area normalised)", normalise=True),
        plot_scores([(lab, r.hist()) for lab, r in zip(labels, res)], out / "datasim_scores.png",
                    title="Softmax scores, simulation vs data-like simulation"),
    ]
    result = {"rows": rows, "icpf_difference": diff, "icpf_difference_sigma": sig, "plane": info.plane,
              "model": {"source": info.source, "fingerprint": info.fingerprint}, "provenance": provenance(),
              "paper_table": paper[0] if paper else None}
    write_json(out / "datasim.json", result)
    result["figures"] = figures
    return result

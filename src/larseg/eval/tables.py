"""The paper's tables (PRD 99 092001, Tables I-III) and ours beside them, as Markdown, CSV and JSON."""

from __future__ import annotations

import csv
import io
import math

#: Metric columns of Tables I-III, in the paper's order: (key in our summaries, heading).
COLUMNS = (("icpf_mean", "ICPF mean"), ("icpf_q90", "ICPF 90%"), ("shower_error", "Shower"),
           ("track_error", "Track"))

#: Table I (percent): sample -> (ICPF mean, ICPF 90%, shower error, track error).
PAPER_TABLE1 = {
    "Test": (1.9, 4.6, 4.1, 2.6),
    "nue": (6.0, 13.8, 7.6, 13.8),
    "numu": (3.9, 4.5, 14.2, 4.3),
    "1e1p": (2.2, 5.7, 2.8, 4.0),
    "1mu1p-LE": (2.3, 2.2, 6.2, 2.4),
    "1e1p-LE": (3.9, 11.5, 3.8, 8.0),
}
#: larseg sample (preset) name -> Table I row.
PAPER_SAMPLE = {"mpv": "Test", "nue-cc": "nue", "numu-cc": "numu", "1e1p": "1e1p", "1mu1p-le": "1mu1p-LE",
                "1e1p-le": "1e1p-LE"}

#: Tables II (Michel) and III (CCpi0), percent: column (sample, label, prediction) -> the four metrics.
PAPER_TABLE2 = {
    ("Data", "Physicist", "U-ResNet"): (1.8, 3.3, 6.2, 1.1),
    ("Simulation", "Physicist", "U-ResNet"): (2.6, 4.4, 5.7, 1.9),
    ("Simulation", "Simulation", "U-ResNet"): (2.5, 4.5, 4.0, 1.6),
    ("Simulation", "Simulation", "Physicist"): (2.3, 3.1, 3.9, 1.3),
}
PAPER_TABLE3 = {
    ("Data", "Physicist", "U-ResNet"): (3.4, 9.0, 4.8, 2.7),
    ("Simulation", "Physicist", "U-ResNet"): (2.5, 5.7, 3.4, 2.4),
    ("Simulation", "Simulation", "U-ResNet"): (1.8, 4.6, 3.0, 2.2),
    ("Simulation", "Simulation", "Physicist"): (2.0, 4.8, 2.6, 2.9),
}


def paper_table_for(sample: str) -> tuple[str, dict] | None:
    """The data/simulation table of the paper matching a sample name (Michel: II, CCpi0: III)."""
    s = sample.lower()
    if s.startswith("michel"):
        return "Table II (Michel electrons)", PAPER_TABLE2
    if s.startswith("ccpi0"):
        return "Table III (CCpi0)", PAPER_TABLE3
    return None


def pct(x) -> str:
    """A fraction as a percentage with one decimal ('-' if undefined)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{100.0 * float(x):.1f}"


def table1_rows(summaries: list[dict]) -> list[dict]:
    """Table I rows from per-sample summaries (dicts with ``sample``, ``metrics``): values in percent."""
    rows = []
    for s in summaries:
        m = s["metrics"]
        paper_name = PAPER_SAMPLE.get(s["sample"])
        paper = PAPER_TABLE1.get(paper_name) if paper_name else None
        row = {"sample": s["sample"], "file": s.get("file", ""), "events": m.get("n_images", 0),
               "events_labelled": m.get("n_images_labelled", 0), "paper_sample": paper_name or ""}
        for i, (key, _) in enumerate(COLUMNS):
            v = m.get(key)
            row[key] = None if v is None or not math.isfinite(float(v)) else round(100.0 * float(v), 3)
            row[f"paper_{key}"] = paper[i] if paper else None
        rows.append(row)
    return rows


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.1f}"


def table1_markdown(rows: list[dict], title: str = "") -> str:
    """Markdown Table I: ours and the paper's value side by side for each metric (percent)."""
    head = ["Sample", "Events"]
    for _, name in COLUMNS:
        head += [f"{name} (ours)", "(paper)"]
    lines = []
    if title:
        lines += [title, ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        label = r["sample"] + (f" ({r['paper_sample']})" if r["paper_sample"] and r["paper_sample"] != r["sample"]
                               else "")
        cells = [label, str(r["events"])]
        for key, _ in COLUMNS:
            cells += [_fmt(r[key]), _fmt(r[f"paper_{key}"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Values in percent. ICPF: incorrectly classified pixel fraction per image (mean over images "
              "and 90% quantile); Shower: fraction of shower pixels labelled track; Track: fraction of track "
              "pixels labelled shower (means over images). Paper: PRD 99 092001, Table I."]
    return "\n".join(lines) + "\n"


def rows_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return buf.getvalue()


def comparison_markdown(columns: list[tuple[str, str, str, dict]], paper: tuple[str, dict] | None = None) -> str:
    """A Table II/III-like table: one column per (sample, label source, prediction source, metrics).

    ``paper`` (title, table) appends the paper's table of the same layout for reference.
    """
    def block(cols):
        head = "| | " + " | ".join(c[0] for c in cols) + " |"
        out = [head, "|---|" + "---|" * len(cols),
               "| Label | " + " | ".join(c[1] for c in cols) + " |",
               "| Prediction | " + " | ".join(c[2] for c in cols) + " |"]
        for i, (key, name) in enumerate(COLUMNS):
            vals = []
            for c in cols:
                m = c[3]
                vals.append(_fmt(m[i]) if isinstance(m, tuple) else pct(m.get(key)))
            out.append(f"| {name} | " + " | ".join(vals) + " |")
        return out

    lines = block(columns)
    events = [str(c[3].get("n_images", "")) for c in columns if isinstance(c[3], dict)]
    if events:
        lines.append("| Events | " + " | ".join(events) + " |")
    lines += ["", "Values in percent; Shower / Track: fraction of shower (track) pixels labelled track (shower)."]
    if paper:
        title, table = paper
        lines += ["", f"Paper, {title}:", ""]
        lines += block([(k[0], k[1], k[2], v) for k, v in table.items()])
    return "\n".join(lines) + "\n"

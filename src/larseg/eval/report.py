"""``larseg report``: one self-contained HTML page of an evaluation directory.

The page holds Table I (``table1.json``), every other Markdown table of the directory
(studies), every PNG figure under it (embedded as data URIs, or linked relative to the
page with ``embed=False``) with a caption naming the paper figure it reproduces, and
the provenance of the network and of larseg.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
from pathlib import Path

from larseg.errors import DataFileError
from larseg.eval.io import write_text_atomic
from larseg.eval.tables import COLUMNS
from larseg.provenance import provenance

#: File-name prefix -> what the figure reproduces.
CAPTIONS = (
    ("fig6_icpf_all", "Fig. 6: ICPF distributions of all samples (area normalised)"),
    ("fig6_icpf", "Fig. 6: binned ICPF distribution"),
    ("fig7", "Fig. 7: ICPF vs truth kinematics"),
    ("fig8_scores", "Fig. 8 (b, c): softmax score distributions of shower and track pixels"),
    ("fig9", "Fig. 9: peak pixel value distributions (3-pixel peak finder)"),
    ("fig10", "Figs. 10 / 17: ICPF and per-class disagreement vs pixel scale factor"),
    ("fig12", "Fig. 12: masked minimum-ionising muon pieces"),
    ("fig13", "Fig. 13: masked Bragg-peak end of a stopping muon"),
    ("fig14", "Fig. 14: masked Michel electron"),
    ("fig15", "Fig. 15: Bragg peak + first Michel pixels, with score heat map"),
    ("datasim_icpf", "Figs. 8a / 16a: ICPF, simulation vs data-like simulation"),
    ("datasim_scores", "Figs. 8b,c / 16b,c: scores, simulation vs data-like simulation"),
    ("mask_entry", "Figs. 12-15: masking study"),
    ("display", "Fig. 18 / appendix: event displays with the network's prediction"),
    ("worst", "Fig. 18: the events with the highest ICPF"),
    ("training", "Fig. 5: training curves"),
)

_STYLE = """
body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
"""


def caption(name: str) -> str:
    for prefix, text in CAPTIONS:
        if name.startswith(prefix):
            return text
    return ""


def _table_html(head: list[str], rows: list[list[str]]) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def table1_html(rows: list[dict]) -> str:
    head = ["Sample", "Paper sample", "Events"]
    for _, name in COLUMNS:
        head += [f"{name} ours [%]", "paper [%]"]
    body = []
    for r in rows:
        cells = [r.get("sample", ""), r.get("paper_sample", "") or "-", r.get("events", "")]
        for key, _ in COLUMNS:
            for k in (key, f"paper_{key}"):
                v = r.get(k)
                cells.append("-" if v is None else f"{float(v):.1f}")
        body.append(cells)
    return _table_html(head, body)


def markdown_html(text: str) -> str:
    """Markdown with pipe tables -> HTML: tables become <table>, other non-empty lines paragraphs."""
    out, table = [], []

    def flush():
        if table:
            cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table]
            cells = [c for c in cells if not all(set(x) <= set("-: ") for x in c)]
            if cells:
                out.append(_table_html(cells[0], cells[1:]))
            table.clear()

    for line in text.splitlines():
        if line.strip().startswith("|"):
            table.append(line)
            continue
        flush()
        if line.strip():
            out.append(f"<p>{html.escape(line.strip())}</p>")
    flush()
    return "\n".join(out)


def _num(v, digits: int = 3, percent: bool = False) -> str:
    if v is None:
        return "-"
    return f"{100 * float(v):.2f}" if percent else f"{float(v):.{digits}f}"


def _study_results_html(root: Path) -> str:
    """Tables of the studies' JSON results (scaling, peaks, masking) found under ``root``."""
    out = []
    for p in sorted(root.rglob("scaling.json")):
        d = json.loads(p.read_text())
        out.append(f"<h3>{html.escape(str(p.relative_to(root)))}: pixel scaling, {html.escape(str(d.get('sample')))}"
                   f" ({d.get('events')} events)</h3>")
        out.append(_table_html(["scale factor", "ICPF mean [%]", "ICPF 90% [%]", "Shower [%]", "Track [%]"],
                               [[f"{r['factor']:g}", _num(r.get("icpf_mean"), percent=True),
                                 _num(r.get("icpf_q90"), percent=True), _num(r.get("shower_error"), percent=True),
                                 _num(r.get("track_error"), percent=True)] for r in d.get("rows", [])]))
    for p in sorted(root.rglob("peaks.json")):
        d = json.loads(p.read_text())
        out.append(f"<h3>{html.escape(str(p.relative_to(root)))}: 3-pixel peak finder</h3>")
        out.append(_table_html(["sample A", "sample B", "peak A", "peak B", "ratio B/A", "fitted scale"],
                               [[d.get("sample_a"), d.get("sample_b"), _num(d.get("peak_a"), 1),
                                 _num(d.get("peak_b"), 1), _num(d.get("ratio")), _num(d.get("fit_scale"))]]))
    for p in sorted(root.rglob("mask.json")):
        d = json.loads(p.read_text())
        out.append(f"<h3>{html.escape(str(p.relative_to(root)))}: masking, {html.escape(str(d.get('sample')))} "
                   f"entry {d.get('entry')}</h3>")
        out.append(_table_html(["case", "pixels", "mean track score", "mean shower score", "predicted shower"],
                               [[c.get("name"), c.get("n_pixels"), _num(c.get("mean_track_score")),
                                 _num(c.get("mean_shower_score")), _num(c.get("fraction_shower"))]
                                for c in d.get("cases", [])]))
    return "\n".join(out)


def _image_src(path: Path, page_dir: Path, embed: bool) -> str:
    if embed:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
    return html.escape(Path(os.path.relpath(path, page_dir)).as_posix())


def build_report(results_dir: str | Path, output: str | Path | None = None, embed: bool = True,
                 title: str = "larseg evaluation") -> Path:
    """Write the HTML page (default ``DIR/report.html``) and return its path."""
    root = Path(results_dir)
    if not root.is_dir():
        raise DataFileError(root, "no such directory")
    output = Path(output) if output else root / "report.html"
    page_dir = output.resolve().parent
    parts = [f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_STYLE}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             f"<p>Directory <code>{html.escape(str(root))}</code>, page written "
             f"{_dt.datetime.now().isoformat(timespec='seconds')}. Reproduces the studies of C. Adams et al., "
             "Phys. Rev. D 99, 092001 (2019).</p>"]
    t1 = root / "table1.json"
    if t1.is_file():
        parts += ["<h2>Table I: performance on simulated samples</h2>", table1_html(json.loads(t1.read_text())),
                  "<p>ICPF: incorrectly classified pixel fraction per image (mean, 90% quantile); Shower: fraction "
                  "of shower pixels labelled track; Track: fraction of track pixels labelled shower.</p>"]
    others = sorted(p for p in root.rglob("*.md") if p.name != "table1.md" and not p.name.startswith("."))
    if others:
        parts.append("<h2>Study tables</h2>")
        for p in others:
            parts += [f"<h3>{html.escape(str(p.relative_to(root)))}</h3>", markdown_html(p.read_text())]
    studies = _study_results_html(root)
    if studies:
        parts += ["<h2>Study results</h2>", studies]
    pngs = sorted(p for p in root.rglob("*.png") if ".tmp" not in p.name and not p.name.startswith("."))
    if pngs:
        parts.append("<h2>Figures</h2>")
        for p in pngs:
            rel = p.relative_to(root).as_posix()
            cap = caption(p.name)
            parts.append(f"<figure><img src='{_image_src(p, page_dir, embed)}' alt='{html.escape(rel)}'>"
                         f"<figcaption><b>{html.escape(rel)}</b>{': ' + html.escape(cap) if cap else ''}"
                         "</figcaption></figure>")
    parts.append("<h2>Provenance</h2>")
    ev = root / "evaluation.json"
    if ev.is_file():
        meta = json.loads(ev.read_text())
        model = meta.get("model", {})
        if model:
            parts.append(f"<p>Network: <code>{html.escape(str(model.get('source', '')))}</code>, weights SHA-1 "
                         f"<code>{html.escape(str(model.get('fingerprint', '')))}</code>, plane {model.get('plane')}, "
                         f"threshold {model.get('threshold')}; checkpoint written by "
                         f"{html.escape(json.dumps(model.get('provenance', {})))}; training "
                         f"{html.escape(json.dumps(model.get('training', {})))}.</p>")
            if model.get("model_config"):
                parts.append("<p>Model config:</p><pre>" + html.escape(model["model_config"]) + "</pre>")
        samples = meta.get("samples", [])
        if samples:
            parts.append(_table_html(["Sample", "File", "Events", "Events/s"],
                                     [[s.get("sample"), s.get("file"), s.get("events"),
                                       "-" if s.get("events_per_second") is None
                                       else f"{s['events_per_second']:.2f}"] for s in samples]))
        parts.append(f"<p>Evaluated with {html.escape(json.dumps(meta.get('provenance', {})))}.</p>")
    parts.append(f"<p>Report made with {html.escape(json.dumps(provenance()))}.</p>")
    parts.append("</body></html>\n")
    write_text_atomic(output, "\n".join(parts))
    return output

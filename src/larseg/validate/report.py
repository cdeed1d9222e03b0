"""``larseg validate``: run the reference comparisons and write one HTML page (plus JSON and Markdown).

Every row shows larseg's value next to its reference, the tolerance, the
source and the status: ``pass``, ``FAIL`` (a defect), ``explained`` (outside
the tolerance for a written, understood reason) or ``info`` (no reference).
"""

from __future__ import annotations

import base64
import html
import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from larseg.atomic import output_dir
from larseg.errors import LarsegError
from larseg.eval.io import write_text_atomic
from larseg.eval.report import _STYLE
from larseg.provenance import provenance
from larseg.validate.checks import Check

#: name -> (title, module path of a ``run(out_dir, quick) -> list[Check]``)
GROUPS = {
    "showers": "larseg.validate.showers",
    "geant4": "larseg.validate.geant4",
    "response": "larseg.validate.response",
}


def _runner(name: str) -> Callable[..., list[Check]]:
    try:  # a group's module is imported only when the group runs (geant4 and response simulate events)
        return importlib.import_module(GROUPS[name]).run
    except ModuleNotFoundError as exc:
        if exc.name != GROUPS[name]:
            raise

        def missing(out_dir, quick=False):
            return [Check(name, "comparison not available", float("nan"), None, None, "", GROUPS[name],
                          detail="this larseg has no such module")]

        return missing


def run_validation(out_dir: str | Path, groups: list[str] | None = None, quick: bool = False,
                   progress: Callable[[str], None] | None = None) -> list[Check]:
    """Run the comparisons of ``groups`` (default: all), write ``validate.{html,json,md}`` into ``out_dir``."""
    out = Path(out_dir)
    output_dir(out)
    names = groups or list(GROUPS)
    unknown = [g for g in names if g not in GROUPS]
    if unknown:
        raise LarsegError(f"unknown validation group(s) {unknown}; choose from {list(GROUPS)}")
    checks: list[Check] = []
    seconds: dict[str, float] = {}
    for name in names:
        if progress:
            progress(name)
        t0 = time.perf_counter()
        checks += _runner(name)(out, quick=quick)
        seconds[name] = round(time.perf_counter() - t0, 1)
    write_text_atomic(out / "validate.json", json.dumps(
        {"quick": quick, "seconds": seconds, "provenance": provenance(), "checks": [c.as_dict() for c in checks]},
        indent=1, default=str))
    write_text_atomic(out / "validate.md", markdown(checks))
    write_text_atomic(out / "validate.html", page(checks, out, quick))
    return checks


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def markdown(checks: list[Check]) -> str:
    lines = ["| group | quantity | larseg | reference | tolerance | unit | status |", "|---|---|---|---|---|---|---|"]
    for c in checks:
        lines.append(f"| {c.group} | {c.name} | {_fmt(c.value)} | {_fmt(c.reference)} | {_fmt(c.tolerance)} | "
                     f"{c.unit} | {c.status} |")
    return "\n".join(lines) + "\n"


def summary(checks: list[Check]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in checks:
        out[c.status] = out.get(c.status, 0) + 1
    return out


def page(checks: list[Check], out: Path, quick: bool) -> str:
    colour = {"pass": "#2a2", "FAIL": "#c00", "explained": "#c80", "info": "#666"}
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>larseg validate</title>",
             f"<style>{_STYLE} td.s {{ font-weight: bold; }} td.note {{ text-align: left; font-size: 0.85em; "
             "max-width: 32em; }}</style></head><body>",
             "<h1>larseg validate: the simulation against outside references</h1>",
             "<p>" + ", ".join(f"{k}: {v}" for k, v in sorted(summary(checks).items()))
             + (" (quick mode: fewer events)" if quick else "") + "</p>"]
    groups = list(dict.fromkeys(c.group for c in checks))
    for group in groups:
        rows = [c for c in checks if c.group == group]
        parts.append(f"<h2>{html.escape(group)}</h2><table><tr><th>quantity</th><th>larseg</th><th>reference</th>"
                     "<th>tolerance</th><th>unit</th><th>status</th><th>source / notes</th></tr>")
        for c in rows:
            note = html.escape(c.source) + (f"<br><i>{html.escape(c.detail)}</i>" if c.detail else "")
            if c.explained:
                note += f"<br><b>Explained:</b> {html.escape(c.explained)}"
            parts.append(f"<tr><td>{html.escape(c.name)}</td><td>{_fmt(c.value)}</td><td>{_fmt(c.reference)}</td>"
                         f"<td>{_fmt(c.tolerance)}</td><td>{html.escape(c.unit)}</td>"
                         f"<td class='s' style='color:{colour[c.status]}'>{c.status}</td>"
                         f"<td class='note'>{note}</td></tr>")
        parts.append("</table>")
        for fig in dict.fromkeys(c.figure for c in rows if c.figure):
            path = out / fig
            if path.is_file():
                data = base64.b64encode(path.read_bytes()).decode()
                parts.append(f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(fig)}'>"
                             f"<figcaption>{html.escape(group)}: {html.escape(fig)}</figcaption></figure>")
    parts.append("<h2>Provenance</h2><pre>" + html.escape(json.dumps(provenance(), indent=1, default=str)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


__all__ = ["GROUPS", "markdown", "page", "run_validation", "summary"]

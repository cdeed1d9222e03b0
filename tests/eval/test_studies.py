"""Pixel scaling, data/simulation comparison, the HTML report, and ``larseg display --model``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from eval_helpers import ValueModel
from test_evaluate import _hand
from typer.testing import CliRunner

from larseg.cli import app
from larseg.errors import LarsegError
from larseg.eval.datasim import data_sim_study
from larseg.eval.display import rank_by_icpf
from larseg.eval.evaluate import evaluate
from larseg.eval.io import load_model_info
from larseg.eval.report import build_report
from larseg.eval.scaling import parse_factors, scaling_study

CUT = 40.0


def test_scaling_study_by_hand_and_resumed(sample_1e1p_le, tmp_path):
    model = ValueModel(CUT)
    res = scaling_study(model, sample_1e1p_le, tmp_path, [1.2, 0.6, 1.0])
    assert [r["factor"] for r in res["rows"]] == [0.6, 1.0, 1.2]
    for r in res["rows"]:
        assert r["icpf_mean"] == pytest.approx(np.nanmean(_hand(sample_1e1p_le, CUT, r["factor"])))
    assert res["rows"][0]["icpf_mean"] != res["rows"][2]["icpf_mean"]
    assert (tmp_path / "fig10_scaling.png").is_file() and (tmp_path / "scaling.csv").is_file()
    stamp = (tmp_path / "scale" / "0.6" / "summary.json").stat().st_mtime_ns
    scaling_study(model, sample_1e1p_le, tmp_path, [0.6, 1.0, 1.2])
    assert (tmp_path / "scale" / "0.6" / "summary.json").stat().st_mtime_ns == stamp
    assert parse_factors("1.3, 0.7,0.7") == [0.7, 1.3]
    with pytest.raises(LarsegError):
        parse_factors("0.7,-1")


def test_data_sim_study(sample_1e1p_le, sample_michel, tmp_path):
    res = data_sim_study(ValueModel(CUT), sample_michel, sample_1e1p_le, tmp_path)
    sim, like = res["rows"]
    assert (sim["sample"], like["sample"]) == ("michel", "1e1p-le")
    assert like["icpf_mean"] == pytest.approx(np.nanmean(_hand(sample_1e1p_le, CUT)))
    assert res["icpf_difference"] == pytest.approx(like["icpf_mean"] - sim["icpf_mean"])
    md = (tmp_path / "datasim.md").read_text()
    assert "Table II (Michel electrons)" in md and "| ICPF mean |" in md and "Data-like simulation" in md
    for name in ("datasim_icpf.png", "datasim_scores.png", "datasim.csv", "datasim.json"):
        assert (tmp_path / name).is_file()


def test_report_embeds_or_links_every_figure(sample_1e1p_le, tmp_path):
    out = tmp_path / "res"
    evaluate(ValueModel(CUT), [sample_1e1p_le], out)
    (out / "study").mkdir()
    (out / "study" / "note.md").write_text("| a | b |\n|---|---|\n| 1 | 2 |\n")
    pngs = sorted(out.rglob("*.png"))
    assert len(pngs) == 2
    page = build_report(out)
    html = page.read_text()
    assert page == out / "report.html"
    assert html.count("data:image/png;base64,") == len(pngs)
    assert "1e1p-LE" in html and "<table>" in html and "<td>1</td>" in html
    assert load_model_info(ValueModel(CUT)).fingerprint in html
    linked = build_report(out, tmp_path / "elsewhere" / "page.html", embed=False)
    srcs = re.findall(r"<img src='([^']+)'", linked.read_text())
    assert len(srcs) == len(pngs)
    for s in srcs:
        assert not s.startswith("data:") and (linked.parent / s).resolve().is_file()
    with pytest.raises(LarsegError):
        build_report(tmp_path / "missing")


def test_display_with_a_model(tiny_ckpt, sample_1e1p_le, tmp_path):
    runner = CliRunner()
    one = tmp_path / "one.png"
    r = runner.invoke(app, ["display", str(sample_1e1p_le), "--model", str(tiny_ckpt), "--entry", "1", "-o", str(one)])
    assert r.exit_code == 0, r.output
    assert one.read_bytes()[:4] == b"\x89PNG"
    several = tmp_path / "several"
    r = runner.invoke(app, ["display", str(sample_1e1p_le), "-m", str(tiny_ckpt), "-e", "0", "-e", "2",
                            "-o", str(several)])
    assert r.exit_code == 0 and len(list(several.glob("*.png"))) == 2
    worst = tmp_path / "worst.png"
    r = runner.invoke(app, ["display", str(sample_1e1p_le), "-m", str(tiny_ckpt), "--worst", "2", "-o", str(worst)])
    assert r.exit_code == 0, r.output
    assert worst.is_file()
    shown = [float(v) for v in re.findall(r"ICPF ([0-9.]+)", r.output)]
    assert len(shown) == 2 and shown[0] >= shown[1]
    info = load_model_info(str(tiny_ckpt))
    ranked = rank_by_icpf(info, sample_1e1p_le)
    assert [round(v, 3) for _, v in ranked[:2]] == shown
    assert r.output.split("entries ")[1].startswith(f"{ranked[0][0]} ")
    # an output without a picture suffix is a directory, for one entry and for --worst
    folder = tmp_path / "pictures"
    for extra in (["--worst", "1"], ["--entry", "0"]):
        r = runner.invoke(app, ["display", str(sample_1e1p_le), "-m", str(tiny_ckpt), *extra, "-o", str(folder)])
        assert r.exit_code == 0, r.output
    assert sorted(p.name for p in folder.glob("*.png")) == [f"{sample_1e1p_le.stem}-predict-entry0.png",
                                                           f"{sample_1e1p_le.stem}-worst1.png"]
    bad = runner.invoke(app, ["display", str(sample_1e1p_le), "--worst", "2"])
    assert isinstance(bad.exception, LarsegError)


def test_rank_by_icpf_orders_the_value_model(sample_1e1p_le):
    info = load_model_info(ValueModel(CUT))
    ranked = rank_by_icpf(info, sample_1e1p_le)
    expect = _hand(sample_1e1p_le, CUT)
    assert [e for e, _ in ranked] == [int(i) for i in np.argsort(-expect, kind="stable")]
    np.testing.assert_allclose([v for _, v in ranked], np.sort(expect)[::-1])


def test_study_commands(tiny_ckpt, sample_michel, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["study", "mask", str(tiny_ckpt), str(sample_michel), "-o", str(tmp_path / "m"),
                            "--rect", "0,0,512,512", "--entry", "1"])
    assert r.exit_code == 0, r.output
    assert "kept pixels" in r.output and (tmp_path / "m" / "mask_entry1.png").is_file()
    r = runner.invoke(app, ["study", "mask", str(tiny_ckpt), str(sample_michel), "-o", str(tmp_path / "m")])
    assert isinstance(r.exception, LarsegError)
    r = runner.invoke(app, ["study", "kinematics", str(tmp_path / "nothing")])
    assert isinstance(r.exception, LarsegError)
    r = runner.invoke(app, ["report", str(tmp_path / "m")])
    assert r.exit_code == 0 and Path(tmp_path / "m" / "report.html").is_file()
    saved = json.loads((tmp_path / "m" / "mask.json").read_text())
    assert saved["selection"]["rects"] == [[0, 0, 512, 512]]

"""``larseg evaluate``: Table I, per-event records, score histograms, figures and resuming."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from eval_helpers import ValueModel, expected_value_model_icpf
from typer.testing import CliRunner

from larseg.cli import app
from larseg.data.dataset import PlaneDataset
from larseg.data.larcv3 import INVALID_U4, Larcv3File
from larseg.errors import DataFileError
from larseg.eval.evaluate import evaluate, evaluate_file, load_sample_results, score_histograms
from larseg.eval.tables import PAPER_TABLE1, table1_markdown, table1_rows

CUT = 40.0


def _hand(path, cut=CUT, scale=1.0, n=None):
    ds = PlaneDataset([path], plane=2, threshold=10.0)
    out = []
    for i in range(len(ds) if n is None else n):
        item = ds[i]
        out.append(expected_value_model_icpf(item["image"][0].numpy(), item["label"].numpy(), cut, scale))
    return np.array(out)


def test_evaluate_writes_table1_records_and_figures(sample_1e1p_le, tmp_path):
    res = evaluate(ValueModel(CUT), [sample_1e1p_le], tmp_path / "out")
    out = tmp_path / "out"
    for name in ("table1.md", "table1.csv", "table1.json", "evaluation.json", "fig6_icpf_1e1p-le.png",
                 "fig8_scores_1e1p-le.png", "samples/1e1p-le/events.jsonl", "samples/1e1p-le/summary.json"):
        assert (out / name).is_file(), name
    assert (out / "fig6_icpf_1e1p-le.png").read_bytes()[:4] == b"\x89PNG"
    # ICPF by hand for the value-cut network
    icpf = _hand(sample_1e1p_le)
    rows = json.loads((out / "table1.json").read_text())
    assert len(rows) == 1 and rows[0]["sample"] == "1e1p-le" and rows[0]["events"] == 3
    assert rows[0]["icpf_mean"] == pytest.approx(100 * np.nanmean(icpf), abs=1e-3)
    assert rows[0]["icpf_q90"] == pytest.approx(100 * np.quantile(icpf[np.isfinite(icpf)], 0.9), abs=1e-3)
    assert [rows[0][f"paper_{k}"] for k in ("icpf_mean", "icpf_q90", "shower_error", "track_error")] == \
        list(PAPER_TABLE1["1e1p-LE"])
    md = (out / "table1.md").read_text()
    assert "1e1p-le (1e1p-LE)" in md and "| 3.9 |" in md and "| 11.5 |" in md
    csv_lines = (out / "table1.csv").read_text().splitlines()
    assert csv_lines[0].startswith("sample,") and len(csv_lines) == 2
    # per-event records
    recs = res.samples[0].records
    assert [r["entry"] for r in recs] == [0, 1, 2]
    np.testing.assert_allclose([r["icpf"] for r in recs], icpf)
    f = Larcv3File(sample_1e1p_le)
    for r in recs:
        parts = f.particles("truth", r["entry"])
        prim = parts[parts["parent_trackid"] == INVALID_U4]
        assert [p["pdg"] for p in r["primaries"]] == [11, 2212]
        for p, rec in zip(prim, r["primaries"]):
            m = {11: 0.51099895, 2212: 938.27208816}[int(p["pdg"])]
            pmag = math.sqrt(p["px"] ** 2 + p["py"] ** 2 + p["pz"] ** 2)
            assert rec["ke_mev"] == pytest.approx(math.hypot(pmag, m) - m, abs=1e-3)
        a, b = (np.array([q["px"], q["py"], q["pz"]]) for q in prim[:2])
        angle = math.degrees(math.acos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
        assert r["opening_angle_deg"] == pytest.approx(angle, abs=1e-6)
        assert r["nu_energy_mev"] is None
        assert r["n_pixels"] == r["n_track"] + r["n_shower"] == r["n_nonzero"]
        assert r["n_pred_track"] + r["n_pred_shower"] == r["n_pixels"]  # the value network never says background
    # score histograms: every labelled pixel once per class; the value network's scores are ~0 or ~1
    hist = res.samples[0].hist()
    assert hist[0, 1].sum() == sum(r["n_track"] for r in recs)
    assert hist[1, 2].sum() == sum(r["n_shower"] for r in recs)
    shower_right = sum(r["n_shower"] * (1 - (r["shower_error"] or 0)) for r in recs)
    assert hist[1, 2, -1] == pytest.approx(shower_right)  # shower pixels called shower: score ~1 (last bin)


def test_score_histograms_by_hand():
    import torch

    probs = torch.zeros(1, 3, 1, 4)
    probs[0, :, 0, 0] = torch.tensor([0.1, 0.7, 0.2])   # track pixel
    probs[0, :, 0, 1] = torch.tensor([0.0, 0.05, 0.95])  # shower pixel
    probs[0, :, 0, 2] = torch.tensor([0.0, 1.0, 0.0])   # shower pixel
    probs[0, :, 0, 3] = torch.tensor([1.0, 0.0, 0.0])   # background: not counted
    label = torch.tensor([[[1, 2, 2, 0]]])
    h = score_histograms(probs, label, bins=10)
    assert h.shape == (2, 3, 10)
    assert h[0, 1, 7] == 1 and h[0, 2, 2] == 1 and h[0, 0, 1] == 1 and h[0].sum() == 3
    assert h[1, 2, 9] == 1 and h[1, 2, 0] == 1 and h[1, 1, 9] == 1 and h[1].sum() == 6


def test_evaluate_resumes_per_file(sample_1e1p_le, tmp_path):
    out = tmp_path / "out"
    model = ValueModel(CUT)
    first = evaluate(model, [sample_1e1p_le], out, plots=False)
    summary = out / "samples" / "1e1p-le" / "summary.json"
    stamp = summary.stat().st_mtime_ns
    again = evaluate(model, [sample_1e1p_le], out, plots=False)
    assert again.n_reused == 1 and summary.stat().st_mtime_ns == stamp
    assert again.samples[0].records == first.samples[0].records
    # other settings or other weights: recomputed
    fewer = evaluate(model, [sample_1e1p_le], out, max_events=2, plots=False)
    assert fewer.n_reused == 0 and fewer.samples[0].n_events == 2
    other = evaluate(ValueModel(CUT + 20), [sample_1e1p_le], out, max_events=2, plots=False)
    assert other.n_reused == 0
    np.testing.assert_allclose([r["icpf"] for r in other.samples[0].records], _hand(sample_1e1p_le, CUT + 20, n=2))
    # an interrupted run (summary missing) and a corrupt summary are recomputed
    summary.unlink()
    assert evaluate(model, [sample_1e1p_le], out, plots=False).n_reused == 0
    summary.write_text("{not json")
    assert evaluate(model, [sample_1e1p_le], out, plots=False).n_reused == 0
    assert evaluate(model, [sample_1e1p_le], out, plots=False, force=True).n_reused == 0
    assert [r.key for r in load_sample_results(out)] == ["1e1p-le"]


def test_scaled_evaluation_reaches_the_network(sample_1e1p_le, tmp_path):
    r = evaluate_file(ValueModel(CUT), sample_1e1p_le, tmp_path / "s", scale=0.5)
    np.testing.assert_allclose(r.icpf(), _hand(sample_1e1p_le, CUT, 0.5))


def test_table1_rows_map_samples_to_the_paper():
    rows = table1_rows([{"sample": "mpv", "metrics": {"icpf_mean": 0.0123, "icpf_q90": 0.04, "shower_error": 0.1,
                                                      "track_error": float("nan"), "n_images": 7}},
                        {"sample": "custom", "metrics": {"icpf_mean": 0.5, "n_images": 1}}])
    assert rows[0]["paper_sample"] == "Test" and rows[0]["icpf_mean"] == pytest.approx(1.23)
    assert rows[0]["track_error"] is None and rows[0]["paper_icpf_q90"] == 4.6
    assert rows[1]["paper_icpf_mean"] is None
    md = table1_markdown(rows)
    assert "| mpv (Test) | 7 | 1.2 | 1.9 | 4.0 | 4.6 | 10.0 | 4.1 | - | 2.6 |" in md


def test_evaluate_command_with_a_checkpoint(tiny_ckpt, sample_1e1p_le, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli"
    result = runner.invoke(app, ["evaluate", str(tiny_ckpt), str(sample_1e1p_le), "-o", str(out), "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "1e1p-le" in result.output and (out / "table1.md").is_file()
    meta = json.loads((out / "evaluation.json").read_text())
    assert meta["model"]["source"] == str(tiny_ckpt) and meta["model"]["plane"] == 2
    assert "tiny" in meta["model"]["model_config"]
    again = runner.invoke(app, ["evaluate", str(tiny_ckpt), str(sample_1e1p_le), "-o", str(out)])
    assert again.exit_code == 0 and "reused the results of 1 file" in again.output
    missing = runner.invoke(app, ["evaluate", str(tiny_ckpt), str(tmp_path / "nope.h5"), "-o", str(out)])
    assert isinstance(missing.exception, DataFileError)


def test_model_info_takes_plane_and_threshold_from_training(tmp_path):
    from eval_helpers import write_checkpoint

    from larseg.eval.io import load_model_info

    path = write_checkpoint(tmp_path / "best.pt", training="name: t\nplane: 1\nthreshold: 12.5\n")
    info = load_model_info(path)
    assert (info.plane, info.threshold) == (1, 12.5) and info.training["name"] == "t"
    assert load_model_info(tmp_path).fingerprint == info.fingerprint  # a run directory: its best.pt
    assert load_model_info(info, plane=2).plane == 2
    other = load_model_info(write_checkpoint(tmp_path / "other.pt", seed=1))
    assert other.fingerprint != info.fingerprint and (other.plane, other.threshold) == (2, 10.0)

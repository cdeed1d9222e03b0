"""``larseg study scan`` (larseg.eval.handscan): Tables II / III from hand labels, with exact numbers.

The events are built so that every disagreement is known (pixel indices are row-major flat indices
of a 20 x 20 collection plane):

=========  ====================  =====================  ==================  =========================
pixels     physicist (alice)     truth                  network             image
=========  ====================  =====================  ==================  =========================
0-2        track                 shower                 shower              60 (network: shower)
3-4        track                 track                  shower              60
5-59       track                 track                  track               50 (network: track)
60-63      shower                track                  track               50
64-69      shower                shower                 track               50
70-99      shower                shower                 shower              60
100-109    ignore                shower                 track               50
110-114    (unlabelled)          track                  shower              60
115-119    (unlabelled)          track                  track               50
200-204    track                 track                  -                   5 (below the threshold 10)
=========  ====================  =====================  ==================  =========================

so that (reference vs prediction):

* physicist vs network (pixels 0-99): ICPF 15/100, Shower 10/40, Track 5/60 (bob: ICPF 17/105, Shower
  10/40, Track 7/65);
* truth vs network (0-99 and 110-119; the ignored 100-109 left out): ICPF 13/110, Shower 6/39, Track 7/71;
* truth vs physicist (0-99): ICPF 7/100, Shower 3/39, Track 4/61;
* alice vs bob (bob: 0-3 shower, 96-99 track, 50-51 ignore, 100-104 and 110-111 track): the 98 pixels
  both labelled, ICPF 8/98, Shower 4/40, Track 4/58.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run_cli

from larseg.data.arrays import save_npz
from larseg.data.handlabels import EventKey, LabelStore
from larseg.data.larcv3 import ImageMeta
from larseg.errors import DataFileError, LarsegError
from larseg.eval.handscan import scan_study

SIDE = 20
PHYS_NET = (15 / 100, 10 / 40, 5 / 60)  # ICPF, Shower, Track
TRUTH_NET = (13 / 110, 6 / 39, 7 / 71)
TRUTH_PHYS = (7 / 100, 3 / 39, 4 / 61)
ALICE_BOB = (8 / 98, 4 / 40, 4 / 58)
BOB_NET = (17 / 105, 10 / 40, 7 / 65)  # bob vs network


def _flat(spec: dict[tuple[int, int], int], fill=0, dtype=np.uint8) -> np.ndarray:
    out = np.full(SIDE * SIDE, fill, dtype=dtype)
    for (a, b), v in spec.items():
        out[a:b + 1] = v
    return out.reshape(SIDE, SIDE)


def event_a():
    """(image, truth, alice's codes, bob's codes) of the table in the module doc."""
    image = _flat({(0, 4): 60, (5, 69): 50, (70, 99): 60, (100, 109): 50, (110, 114): 60, (115, 119): 50,
                   (200, 204): 5}, dtype=np.float32)
    truth = _flat({(0, 2): 2, (3, 59): 1, (60, 63): 1, (64, 99): 2, (100, 109): 2, (110, 119): 1, (200, 204): 1})
    alice = _flat({(0, 59): 1, (60, 99): 2, (100, 109): 3, (200, 204): 1})
    bob = _flat({(0, 3): 2, (4, 59): 1, (50, 51): 3, (60, 95): 2, (96, 99): 1, (100, 104): 1, (105, 109): 3,
                 (110, 111): 1})
    return image, truth, alice, bob


def event_perfect():
    """An event where the network, the truth and the physicist agree on every pixel (all rates 0)."""
    image = _flat({(0, 49): 50, (50, 79): 60}, dtype=np.float32)
    codes = _flat({(0, 49): 1, (50, 79): 2})
    return image, codes, codes, codes


def predict(image: np.ndarray) -> np.ndarray:
    """The stand-in network: a non-zero pixel is shower above 55, track below; zero pixels background."""
    nz = image > 0
    shower = nz & (image > 55)
    return np.stack([~nz, nz & ~shower, shower]).astype(np.float32)


def write_source(path: Path, images, truths=None) -> Path:
    """An .npz whose plane 2 holds ``images`` (planes 0 and 1 tiny and empty), with truth if given."""
    n = len(images)
    empty = np.zeros((n, 4, 4), np.float32)
    labels = None if truths is None else [empty.astype(np.uint8), empty.astype(np.uint8), np.stack(truths)]
    return save_npz(path, [empty, empty, np.stack(images)], labels=labels)


def write_labels(path: Path, scanner: str, events, plane: int = 2, done: bool = True, shape=None) -> Path:
    """A labels file as ``larseg scan`` writes it: ``events`` = [(source, entry, codes (H, W))]."""
    store = LabelStore(path, scanner)
    for src, entry, codes in events:
        key = EventKey(str(Path(src).resolve()), entry)
        rows, cols = shape or codes.shape
        store.register(key, (0, 0, entry), {plane: ImageMeta(plane, (cols, rows), (float(cols), float(rows)))})
        for c in (1, 2, 3):
            idx = np.flatnonzero(codes.reshape(-1) == c)
            if len(idx):
                store.set(key, plane, idx, c)
        if done:
            store.mark_done(key)
    store.close()
    return path


def col(result: dict, key: str) -> dict:
    return next(c for c in result["columns"] if c["key"] == key)


def values(c: dict) -> tuple[float, float, float]:
    m = c["metrics"]
    return m["icpf_mean"]["value"], m["shower_error"]["value"], m["track_error"]["value"]


@pytest.fixture
def samples(tmp_path):
    """Data: 3 copies of event A (alice and bob); simulation: 3 copies of event A with truth (alice)."""
    image, truth, alice, bob = event_a()
    data_src = write_source(tmp_path / "data.npz", [image] * 3)
    sim_src = write_source(tmp_path / "sim.npz", [image] * 3, [truth] * 3)
    return {
        "data": [write_labels(tmp_path / "data-alice.h5", "alice", [(data_src, e, alice) for e in range(3)]),
                 write_labels(tmp_path / "data-bob.h5", "bob", [(data_src, e, bob) for e in range(3)])],
        "sim": [write_labels(tmp_path / "sim-alice.h5", "alice", [(sim_src, e, alice) for e in range(3)])],
        "data_src": data_src, "sim_src": sim_src,
    }


def test_exact_numbers_every_column(samples, tmp_path):
    res = scan_study(samples["data"], samples["sim"], tmp_path / "out", predict=predict, bootstrap=50)
    # the data were labelled by alice and bob: one comparison per scanner and event
    both = tuple((a + b) / 2 for a, b in zip(PHYS_NET, BOB_NET))
    assert values(col(res, "data_physicist_network")) == pytest.approx(both, abs=1e-12)
    assert values(col(res, "sim_physicist_network")) == pytest.approx(PHYS_NET, abs=1e-12)
    assert values(col(res, "sim_truth_network")) == pytest.approx(TRUTH_NET, abs=1e-12)
    assert values(col(res, "sim_truth_physicist")) == pytest.approx(TRUTH_PHYS, abs=1e-12)
    pair = col(res, "data_scanners_1")
    assert (pair["label"], pair["prediction"]) == ("Physicist (alice)", "Physicist (bob)")
    assert values(pair) == pytest.approx(ALICE_BOB, abs=1e-12)
    # identical events: the 90% quantile is the common value, and every bootstrap error is exactly 0
    for c in res["columns"]:
        if c["key"] != "data_physicist_network":
            assert c["metrics"]["icpf_q90"]["value"] == pytest.approx(c["metrics"]["icpf_mean"]["value"])
        assert all(m["error"] == 0.0 for m in c["metrics"].values()), c["key"]
        assert c["n_events"] == 3
    # the data column holds both scanners' comparisons of the same 3 events; the pixel counts are exact
    data = col(res, "data_physicist_network")
    assert (data["n_events"], data["n_comparisons"]) == (3, 6)
    assert data["metrics"]["icpf_q90"]["value"] == pytest.approx(17 / 105)  # 3 x alice 0.15, 3 x bob 0.162
    alice = [r for r in col(res, "sim_truth_physicist")["comparisons"]]
    assert {(r["n_pixels"], r["n_track"], r["n_shower"]) for r in alice} == {(100, 61, 39)}
    assert {r["n_pixels"] for r in col(res, "sim_truth_network")["comparisons"]} == {110}
    # the 5 labelled pixels below the threshold are reported, not compared
    assert any("5 hand-labelled pixels are below the pixel threshold" in n for n in res["notes"])
    md = (tmp_path / "out" / "table.md").read_text()
    assert "| Sample | Data | Simulation | Simulation | Simulation | Data |" in md
    assert "| Prediction | U-ResNet | U-ResNet | U-ResNet | Physicist | Physicist (bob) |" in md
    assert "| ICPF mean | 15.60 ± 0.00 | 15.00 ± 0.00 | 11.82 ± 0.00 | 7.00 ± 0.00 | 8.16 ± 0.00 |" in md
    assert "| Shower | 25.00 ± 0.00 | 25.00 ± 0.00 |" in md and "| Track | 9.55 ± 0.00 | 8.33 ± 0.00 |" in md
    saved = json.loads((tmp_path / "out" / "table.json").read_text())
    assert saved["columns"][0]["metrics"] == res["columns"][0]["metrics"]
    assert {f["scanner"] for f in saved["labels_files"]} == {"alice", "bob"}
    for name in ("fig8_icpf.png", "fig8_scores.png", "fig18_worst.png"):
        assert (tmp_path / "out" / name).stat().st_size > 1000
    # Fig. 18: the 3 data events (distinct, each with its worse scanner: bob)
    assert [(w["entry"], w["scanner"]) for w in saved["worst_events"]] == [(0, "bob"), (1, "bob"), (2, "bob")]
    assert saved["worst_events"][0]["icpf"] == pytest.approx(17 / 105)


def test_ignore_and_unlabelled_pixels(tmp_path):
    """Ignored pixels leave every column; unlabelled ones leave the physicist's columns only."""
    image, truth, alice, _ = event_a()
    src = write_source(tmp_path / "sim.npz", [image], [truth])
    # the same labels without the ignore marks: pixels 100-109 become unlabelled, so they join truth vs network
    no_ignore = np.where(alice == 3, 0, alice).astype(np.uint8)
    lab = write_labels(tmp_path / "a.h5", "alice", [(src, 0, no_ignore)])
    res = scan_study([], [lab], tmp_path / "out", predict=predict, bootstrap=0, figures=False)
    assert values(col(res, "sim_physicist_network")) == pytest.approx(PHYS_NET)
    assert values(col(res, "sim_truth_physicist")) == pytest.approx(TRUTH_PHYS)
    # 100-109: truth shower, network track -> 10 more shower pixels, all wrong
    assert values(col(res, "sim_truth_network")) == pytest.approx((23 / 120, 16 / 49, 7 / 71))
    # now ignore everything the physicist labelled shower: Shower has no pixels, so it is skipped
    only_track = np.where(alice == 2, 3, alice).astype(np.uint8)
    lab2 = write_labels(tmp_path / "b.h5", "alice", [(src, 0, only_track)])
    res = scan_study([], [lab2], tmp_path / "out2", predict=predict, bootstrap=0, figures=False)
    c = col(res, "sim_physicist_network")
    assert c["metrics"]["shower_error"]["value"] is None or math.isnan(c["metrics"]["shower_error"]["value"])
    assert values(c)[0] == pytest.approx(5 / 60) and c["n_with_shower"] == 0
    assert any("without reference-shower pixels (left out of Shower)" in n for n in res["notes"])
    assert "| Shower | - |" in res["markdown"]


def test_bootstrap_errors_and_seed(tmp_path):
    a, perfect = event_a(), event_perfect()
    events = [a, perfect, a, perfect, a]
    src = write_source(tmp_path / "sim.npz", [e[0] for e in events], [e[1] for e in events])
    lab = write_labels(tmp_path / "a.h5", "alice", [(src, k, e[2]) for k, e in enumerate(events)])
    one = scan_study([], [lab], tmp_path / "o1", predict=predict, bootstrap=300, seed=1, figures=False)
    again = scan_study([], [lab], tmp_path / "o2", predict=predict, bootstrap=300, seed=1, figures=False)
    other = scan_study([], [lab], tmp_path / "o3", predict=predict, bootstrap=300, seed=2, figures=False)
    c1, c2, c3 = (col(r, "sim_physicist_network") for r in (one, again, other))
    assert c1["metrics"]["icpf_mean"]["value"] == pytest.approx(3 / 5 * 0.15)
    assert all(m["error"] > 0 for m in c1["metrics"].values())
    assert c1["metrics"] == c2["metrics"]  # the same seed: the same errors
    assert c1["metrics"]["icpf_mean"]["error"] != c3["metrics"]["icpf_mean"]["error"]
    # about the standard error of a mean of 5 values (0.15 x3, 0 x2): std / sqrt(5)
    expected = np.std([0.15, 0, 0.15, 0, 0.15]) / math.sqrt(5)
    assert c1["metrics"]["icpf_mean"]["error"] == pytest.approx(expected, rel=0.25)
    no_boot = scan_study([], [lab], tmp_path / "o4", predict=predict, bootstrap=0, figures=False)
    assert col(no_boot, "sim_physicist_network")["metrics"]["icpf_mean"]["error"] is None


def test_without_model_and_without_truth(samples, tmp_path):
    """No network: only the truth-vs-physicist and scanner columns (and no figures); no truth: no truth columns."""
    out = tmp_path / "out"
    scan_study(samples["data"], samples["sim"], out, predict=predict, bootstrap=0)
    assert (out / "fig8_icpf.png").exists()
    res = scan_study(samples["data"], samples["sim"], out, bootstrap=0)
    assert [c["key"] for c in res["columns"]] == ["sim_truth_physicist", "data_scanners_1"]
    reasons = {o["key"]: o["reason"] for o in res["omitted"]}
    assert "no network" in reasons["data_physicist_network"] and "no network" in reasons["sim_truth_network"]
    assert not any((out / n).exists() for n in ("fig8_icpf.png", "fig8_scores.png", "fig18_worst.png"))
    assert "- Omitted: Data, Physicist vs U-ResNet: no network (--model) given." in res["markdown"]
    # simulation sources without truth: the truth columns are omitted with a note
    image, _, alice, _ = event_a()
    src = write_source(tmp_path / "notruth.npz", [image])
    lab = write_labels(tmp_path / "nt.h5", "alice", [(src, 0, alice)])
    res = scan_study([], [lab], tmp_path / "out2", predict=predict, bootstrap=0, figures=False)
    assert [c["key"] for c in res["columns"]] == ["sim_physicist_network"]
    reasons = {o["key"]: o["reason"] for o in res["omitted"]}
    assert "no truth labels: notruth.npz" in reasons["sim_truth_physicist"]
    assert "no --data labels files given" in reasons["data_physicist_network"]


def test_done_only_and_max_events(tmp_path):
    a, perfect = event_a(), event_perfect()
    src = write_source(tmp_path / "s.npz", [a[0], perfect[0]], [a[1], perfect[1]])
    lab = tmp_path / "a.h5"
    write_labels(lab, "alice", [(src, 0, a[2])], done=False)
    store = LabelStore(lab, "alice")  # a second session adds a done event
    key = EventKey(str(src.resolve()), 1)
    store.register(key, (0, 0, 1), {2: ImageMeta(2, (SIDE, SIDE), (20.0, 20.0))})
    store.set(key, 2, np.flatnonzero(perfect[2].reshape(-1) == 1), 1)
    store.set(key, 2, np.flatnonzero(perfect[2].reshape(-1) == 2), 2)
    store.mark_done(key)
    store.close()
    res = scan_study([], [lab], tmp_path / "o1", predict=predict, bootstrap=0, figures=False)
    assert col(res, "sim_physicist_network")["n_events"] == 2
    res = scan_study([], [lab], tmp_path / "o2", predict=predict, bootstrap=0, done_only=True, figures=False)
    c = col(res, "sim_physicist_network")
    assert c["n_events"] == 1 and c["metrics"]["icpf_mean"]["value"] == 0.0
    assert any("1 not marked done" in n for n in res["notes"])
    res = scan_study([], [lab], tmp_path / "o3", predict=predict, bootstrap=0, max_events=1, figures=False)
    assert values(col(res, "sim_physicist_network")) == pytest.approx(PHYS_NET)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_bad_inputs_are_one_line_errors(samples, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(DataFileError) as exc:
        scan_study([tmp_path / "missing.h5"], [], out, predict=predict)
    assert "missing.h5: no such labels file" in _one_line(exc)
    with pytest.raises(LarsegError) as exc:
        scan_study([], [], out)
    assert "no labels files" in _one_line(exc)
    # the source file recorded in the labels is gone
    image, truth, alice, _ = event_a()
    gone = write_source(tmp_path / "gone.npz", [image])
    lab = write_labels(tmp_path / "gone.h5", "alice", [(gone, 0, alice)])
    gone.unlink()
    with pytest.raises(DataFileError) as exc:
        scan_study([lab], [], out, predict=predict)
    text = _one_line(exc)
    assert str(lab) in text and str(gone.resolve()) in text and "no longer exists" in text
    # labels of another shape than the source image
    src = write_source(tmp_path / "s.npz", [image])
    bad = write_labels(tmp_path / "shape.h5", "alice", [(src, 0, np.zeros((SIDE, SIDE + 1), np.uint8) + 1)])
    with pytest.raises(DataFileError) as exc:
        scan_study([bad], [], out, predict=predict)
    assert str(bad) in (text := _one_line(exc)) and "20 x 21 pixels, the source image 20 x 20" in text
    # events, but none labelled on the plane
    empty = write_labels(tmp_path / "empty.h5", "alice", [(src, 0, np.zeros((SIDE, SIDE), np.uint8))])
    with pytest.raises(LarsegError) as exc:
        scan_study([empty], [], out, predict=predict)
    assert "no events to compare" in (text := _one_line(exc)) and str(empty) in text
    with pytest.raises(LarsegError) as exc:
        scan_study([empty], [], out, plane=1)
    assert "plane 1 (V)" in _one_line(exc)
    # a bad model file
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(DataFileError) as exc:
        scan_study(samples["data"], [], out, model=junk)
    assert str(junk) in _one_line(exc)
    with pytest.raises(DataFileError) as exc:
        scan_study(samples["data"] + samples["data"][:1], [], out, predict=predict)
    assert "given twice" in _one_line(exc)
    assert not (out / "table.md").exists()  # nothing written for a bad input


def test_cli_end_to_end_with_a_real_network(samples, tmp_path, capsys, tiny_ckpt):
    out = tmp_path / "cli"
    args = ["study", "scan", "--data", samples["data"][0], "--data", samples["data"][1], "--sim",
            samples["sim"][0], "--model", tiny_ckpt, "-o", out, "--title", "Michel", "--bootstrap", "20"]
    code, stdout, stderr = run_cli(capsys, *args)
    assert code == 0, stderr
    assert "# Michel: hand-scan comparison (Tables II / III), plane Y" in stdout
    assert "| ICPF mean |" in stdout and f"wrote {out}" in stdout
    res = json.loads((out / "table.json").read_text())
    assert [c["key"] for c in res["columns"]] == ["data_physicist_network", "sim_physicist_network",
                                                  "sim_truth_network", "sim_truth_physicist", "data_scanners_1"]
    assert res["model"]["source"] == str(tiny_ckpt)
    # the network-free columns do not depend on the network
    assert values(col(res, "sim_truth_physicist")) == pytest.approx(TRUTH_PHYS)
    assert values(col(res, "data_scanners_1")) == pytest.approx(ALICE_BOB)
    assert all(0 <= values(c)[0] <= 1 for c in res["columns"])
    for name in ("table.md", "fig8_icpf.png", "fig8_scores.png", "fig18_worst.png"):
        assert (out / name).is_file()
    code, _, stderr = run_cli(capsys, "study", "scan", "--data", tmp_path / "nope.h5", "-o", out)
    assert code == 2 and "nope.h5: no such labels file" in stderr and len(stderr.strip().splitlines()) == 1

"""``larseg predict`` / ``larseg export``: output products, event ids, threshold, resume, formats, errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import run_cli
from infer_helpers import save_checkpoint, tiny_model, track_image

import larseg
from larseg.data.arrays import save_npz
from larseg.data.larcv3 import Event, ImageMeta, Larcv3File, Larcv3Writer, sparse_from_dense
from larseg.errors import DataFileError
from larseg.infer import OUTPUT_PRODUCTS, predict_files

IDS = [(7, 1, 11), (7, 1, 12), (7, 2, 30)]
SHAPES = [(48, 64), (48, 64), (48, 96)]  # U, V, Y: the collection plane is wider, as in MicroBooNE


def _planes(k: int) -> list[np.ndarray]:
    planes = []
    for p, (h, w) in enumerate(SHAPES):
        img = track_image(h, w, seed=10 * k + p)
        img[img == 0] = np.random.default_rng(k).uniform(-4, 9.5, size=(img == 0).sum())  # noise below threshold
        planes.append(img)
    return planes


@pytest.fixture
def sample(tmp_path):
    """A larcv3 file of 3 events x 3 planes, plane 2 of event 1 below threshold everywhere."""
    path = tmp_path / "in.h5"
    images = []
    with Larcv3Writer(path) as w:
        for k, ids in enumerate(IDS):
            planes = _planes(k)
            if k == 1:
                planes[2] = np.clip(planes[2], None, 9.0)
            images.append(planes)
            metas = [ImageMeta.for_dense(p, h, w_, (0.3, 0.3)) for p, (h, w_) in enumerate(SHAPES)]
            w.write(Event(*ids, sparse2d={"wire": [sparse_from_dense(im, m, im != 0) for im, m in zip(planes, metas)]}))
    return path, images


def test_predict_products_ids_and_scores(capsys, tmp_path, tiny_ckpt, sample):
    path, images = sample
    out = tmp_path / "pred.h5"
    code, stdout, stderr = run_cli(capsys, "predict", tiny_ckpt, path, "-o", out)
    assert code == 0, stderr
    assert "wrote 3 events" in stdout and "1 empty" in stdout
    assert "predict" in stderr  # the progress line
    f = Larcv3File(out)
    assert sorted(f.products["sparse2d"]) == sorted(OUTPUT_PRODUCTS)
    assert f.metadata["larseg_sample"] == "prediction" and "larseg_version" in f.metadata
    net = larseg.load_model(tiny_ckpt)
    for k, ids in enumerate(IDS):
        assert f.event_id(k) == ids
        ev = f.read(k)
        for p, image in enumerate(images[k]):
            charged = image >= 10
            wire = ev.sparse2d["wire"][p]
            assert wire.meta.projection_id == p and wire.meta.dense_shape == SHAPES[p]
            np.testing.assert_array_equal(wire.dense(), np.where(charged, image, 0))  # thresholded input
            track, shower, pred = (ev.sparse2d[n][p] for n in ("score_track", "score_shower", "prediction"))
            for s in (track, shower, pred):
                assert np.array_equal(s.index, wire.index)  # the same pixels: the charged ones
            if not charged.any():
                assert len(wire.index) == 0
                continue
            scores = net.predict(image)
            np.testing.assert_allclose(track.dense()[charged], scores[1][charged], atol=1e-6)
            np.testing.assert_allclose(shower.dense()[charged], scores[2][charged], atol=1e-6)
            assert np.array_equal(pred.dense()[charged], scores.argmax(0)[charged])
            assert track.dense()[~charged].max() == 0 and pred.dense()[~charged].max() == 0
    assert len(f.sparse2d("wire", 1)[2].index) == 0


def test_tiles_mode_planes_and_onnx_backend(capsys, tmp_path, tiny_ckpt, sample):
    path, images = sample
    full, tiles, onnx = tmp_path / "full.h5", tmp_path / "tiles.h5", tmp_path / "onnx.h5"
    assert run_cli(capsys, "predict", tiny_ckpt, path, "-o", full, "--planes", "2,0")[0] == 0
    assert run_cli(capsys, "predict", tiny_ckpt, path, "-o", tiles, "--planes", "2,0", "--mode", "tiles",
                   "--tile", "32", "--overlap", "24", "--batch", "4")[0] == 0
    a, b = Larcv3File(full), Larcv3File(tiles)
    assert [im.meta.projection_id for im in a.sparse2d("wire", 0)] == [2, 0]
    for k in range(3):
        for p in range(2):
            sa, sb = a.sparse2d("score_track", k)[p], b.sparse2d("score_track", k)[p]
            assert np.array_equal(sa.index, sb.index)
            # tiles of 32 px: their zero-weight margin (6 px) is inside the receptive field (~20 px), so only close
            np.testing.assert_allclose(sa.value, sb.value, atol=2e-3)
    pytest.importorskip("onnxruntime")
    model_onnx = tmp_path / "tiny.onnx"
    code, stdout, _ = run_cli(capsys, "export", tiny_ckpt, "-o", model_onnx)
    assert code == 0 and model_onnx.is_file()
    assert "max abs difference" in stdout
    diff = float(stdout.split("max abs difference: ")[1].split()[0])
    assert diff < 1e-4
    assert run_cli(capsys, "predict", model_onnx, path, "-o", onnx, "--planes", "2,0")[0] == 0
    c = Larcv3File(onnx)
    assert "backend: onnx" in c.metadata["larseg_run"]
    for k in range(3):
        np.testing.assert_allclose(c.sparse2d("score_shower", k)[0].value, a.sparse2d("score_shower", k)[0].value,
                                   atol=1e-4)


def test_resume_continues_an_interrupted_run(tmp_path, tiny_ckpt, sample):
    path, _ = sample
    net = larseg.load_model(tiny_ckpt)
    ref = predict_files(net, [path], tmp_path / "ref.h5")
    assert ref.n_entries == 3 and ref.n_predicted == 3 and ref.empty_planes == 1

    class Stop(Exception):
        pass

    def interrupt_after_two(total, done):
        import contextlib

        @contextlib.contextmanager
        def bar():
            count = [done]

            def advance(n=1):
                count[0] += n
                if count[0] == 2:
                    raise Stop

            yield advance
        return bar()

    out = tmp_path / "out.h5"
    with pytest.raises(Stop):
        predict_files(net, [path], out, progress_factory=interrupt_after_two)
    assert not out.exists() and (tmp_path / "out.h5.partial").exists()
    with pytest.raises(DataFileError, match="cannot resume: it was written with mode = 'full', not 'tiles'"):
        predict_files(net, [path], out, mode="tiles", resume=True)
    result = predict_files(net, [path], out, resume=True)
    assert result.n_entries == 3 and result.n_predicted == 1
    a, b = Larcv3File(ref.path), Larcv3File(out)
    for k in range(3):
        assert a.event_id(k) == b.event_id(k)
        for name in OUTPUT_PRODUCTS:
            for x, y in zip(a.sparse2d(name, k), b.sparse2d(name, k)):
                assert np.array_equal(x.index, y.index) and np.array_equal(x.value, y.value)
    with pytest.raises(DataFileError, match="exists already"):
        predict_files(net, [path], out)


def test_root_and_numpy_inputs(tmp_path, tiny_ckpt, shared):
    pytest.importorskip("uproot")
    net = larseg.load_model(tiny_ckpt)
    root = shared / "fixtures" / "larcv2" / "proton.root"
    planes = [np.stack([_planes(k)[p] for k in range(2)]) for p in range(3)]
    npz = save_npz(tmp_path / "ev.npz", planes, np.array([[1, 0, 5], [1, 0, 6]]))
    result = predict_files(net, [root, npz], tmp_path / "out.h5", planes=[0, 2])
    assert result.n_entries == 12
    f = Larcv3File(result.path)
    assert f.event_id(0) == (1, 0, 1) and f.event_id(10) == (1, 0, 5) and f.event_id(11) == (1, 0, 6)
    # ROOT entry 3, projection 2: its charged pixels and their scores
    from larseg.data.larcv_root import LarcvRootFile

    image = LarcvRootFile(root).images(3)[2].image
    wire = f.sparse2d("wire", 3)[1]
    assert wire.meta.projection_id == 2 and len(wire.index) == np.count_nonzero(image >= 10)
    np.testing.assert_allclose(f.sparse2d("score_track", 3)[1].dense()[image >= 10], net.predict(image)[1][image >= 10],
                               atol=1e-6)
    meta = f.metadata["larseg_predict"]
    assert "LArCV2" in meta and "numpy" in meta


@pytest.mark.parametrize("make, args, problem", [
    (lambda d: np.save(d / "nan.npy", np.array([[[20.0, 30.0]], [[np.nan, 30.0]]], np.float32)), ("nan.npy",),
     "nan.npy: entry 0 plane 1: 1 NaN/inf pixels"),
    (lambda d: (d / "notes.txt").write_text("hello"), ("notes.txt",), "notes.txt: unknown format (suffix '.txt')"),
    (lambda d: np.save(d / "two.npy", np.ones((2, 8, 8), np.float32) * 20), ("two.npy", "--planes", "0,2"),
     "two.npy: entry 0 has no plane 2 (has planes 0, 1); choose with --planes"),
    (lambda d: None, ("two.npy", "--planes", "a,b"), "--planes 'a,b': expected projection ids"),
    (lambda d: None, ("two.npy", "--mode", "patch"), "--mode patch: expected full or tiles"),
])
def test_user_errors_are_one_line(capsys, tmp_path, tiny_ckpt, make, args, problem):
    make(tmp_path)
    np.save(tmp_path / "two.npy", np.ones((2, 8, 8), np.float32) * 20)
    args = [str(tmp_path / a) if a.endswith((".npy", ".txt")) else a for a in args]
    code, _, stderr = run_cli(capsys, "predict", tiny_ckpt, *args, "-o", tmp_path / "o.h5")
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("larseg: error: ") and problem in lines[0], stderr


def test_empty_planes_are_written_empty_without_running_the_network(tmp_path, tiny_ckpt):
    images = np.zeros((2, 3, 16, 16), np.float32)
    images[1, 0, 4, 4] = 50.0
    np.save(tmp_path / "quiet.npy", images)
    result = predict_files(larseg.load_model(tiny_ckpt), [tmp_path / "quiet.npy"], tmp_path / "q.h5")
    assert result.n_planes == 6 and result.empty_planes == 5 and result.n_pixels == 1
    f = Larcv3File(result.path)
    assert len(f.sparse2d("prediction", 1)[0].index) == 1
    assert all(len(im.index) == 0 for im in f.sparse2d("score_track", 0))


def test_no_traceback_from_the_real_command(tmp_path, tiny_ckpt):
    np.save(tmp_path / "inf.npy", np.array([[np.inf, 20.0]], np.float32))
    proc = subprocess.run([sys.executable, "-m", "larseg", "predict", str(tiny_ckpt), str(tmp_path / "inf.npy"),
                           "-o", str(tmp_path / "o.h5")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"larseg: error: {tmp_path / 'inf.npy'}: entry 0 plane 0: 1 NaN/inf pixels"
    assert not (tmp_path / "o.h5").exists()


def test_sparse_model_predicts_whole_events_without_tiles(capsys, tmp_path, sample):
    """A sparse U-ResNet runs on whole images of any size; scores equal the model's own forward."""
    import torch
    from infer_helpers import save_checkpoint, tiny_config

    from larseg.model import build_model

    torch.manual_seed(0)
    net = build_model(tiny_config(sparse=True, norm="group", norm_groups=2)).eval()
    ckpt = save_checkpoint(net, tmp_path / "sparse.pt")
    path, images = sample
    out = tmp_path / "pred.h5"
    code, _, stderr = run_cli(capsys, "predict", ckpt, path, "-o", out)
    assert code == 0, stderr
    f = Larcv3File(out)
    image = images[2][2]
    charged = image >= 10
    with torch.no_grad():
        logits = net(torch.as_tensor(np.where(charged, image, 0), dtype=torch.float32)[None, None])
    scores = torch.softmax(logits, 1)[0].numpy()
    ev = f.read(2)
    np.testing.assert_allclose(ev.sparse2d["score_shower"][2].dense()[charged], scores[2][charged], atol=1e-5)
    assert len(ev.sparse2d["prediction"][2].index) == charged.sum()


def test_the_output_is_never_an_input(tmp_path, tiny_ckpt, sample):
    path, _ = sample
    before = path.read_bytes()
    with pytest.raises(DataFileError, match="is also an input"):
        predict_files(larseg.load_model(tiny_ckpt), [path], path, overwrite=True)
    assert path.read_bytes() == before


def test_nan_weights_are_refused(capsys, tmp_path):
    import torch

    model = tiny_model()
    with torch.no_grad():
        next(iter(model.parameters()))[0] = float("nan")
    ckpt = save_checkpoint(model, tmp_path / "nan.pt")
    with pytest.raises(DataFileError, match="NaN/inf values"):
        larseg.load_model(ckpt)
    np.save(tmp_path / "x.npy", np.zeros((8, 8), np.float32))
    code, _, stderr = run_cli(capsys, "predict", ckpt, tmp_path / "x.npy", "-o", tmp_path / "o.h5")
    assert code == 2 and "NaN/inf values" in stderr and len(stderr.strip().splitlines()) == 1

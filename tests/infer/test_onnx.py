"""ONNX export: dynamic image size, parity with PyTorch, runnable with onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from infer_helpers import save_checkpoint, tiny_model, track_image

import larseg
from larseg.errors import DataFileError
from larseg.infer import export_onnx, parity, read_onnx

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


@pytest.fixture
def exported(tmp_path):
    model = tiny_model()
    path = tmp_path / "tiny.onnx"
    export_onnx(model, path)
    return model, path


def test_parity_at_two_image_sizes(exported):
    model, path = exported
    data, config = read_onnx(path)
    assert config == model.config
    diffs = parity(model, data, sizes=((64, 96), (128, 40)), batch=2)
    assert set(diffs) == {"64x96", "128x40", "max"}
    assert diffs["max"] < 1e-4, diffs


def test_parity_check_detects_a_different_model(exported):
    """The parity measure is not vacuous: another network's export differs."""
    model, _ = exported
    other = tiny_model(seed=1)
    data = export_onnx(other, __import__("io").BytesIO())
    assert parity(model, data, sizes=((64, 64),))["max"] > 1e-2


def test_onnx_segmenter_matches_torch_on_odd_sizes(exported, tmp_path):
    model, path = exported
    ckpt = save_checkpoint(model, tmp_path / "tiny.pt")
    via_onnx = larseg.load_model(path)
    assert via_onnx.backend == "onnx" and via_onnx.module is None and via_onnx.config == model.config
    via_torch = larseg.load_model(ckpt)
    for shape in [(61, 99), (130, 35)]:
        image = track_image(*shape, seed=shape[0])
        np.testing.assert_allclose(via_onnx.predict(image), via_torch.predict(image), atol=1e-4)
    stack = np.stack([track_image(40, 52, seed=s) for s in range(3)])
    np.testing.assert_allclose(via_onnx.predict(stack, batch=3), via_torch.predict(stack), atol=1e-4)
    # a checkpoint with backend onnx is exported in memory
    in_memory = larseg.load_model(ckpt, backend="onnx")
    assert in_memory.backend == "onnx"
    image = track_image(64, 64)
    np.testing.assert_allclose(in_memory.predict(image, "tiles", tile=32, overlap=16),
                               via_torch.predict(image, "tiles", tile=32, overlap=16), atol=1e-4)


def test_not_a_larseg_onnx_file(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\x01garbage")
    with pytest.raises(DataFileError, match="not a readable ONNX model|not a larseg ONNX export"):
        larseg.load_model(junk)
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    plain = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(graph), plain)
    with pytest.raises(DataFileError, match="not a larseg ONNX export"):
        larseg.load_model(plain)
    with pytest.raises(Exception, match="--backend onnx"):
        larseg.load_model(plain, backend="torch")


def test_sparse_models_are_refused_with_one_line():
    import io

    from larseg.errors import LarsegError
    from larseg.model import ModelConfig, build_model

    net = build_model(ModelConfig(name="tiny-sparse", stem_filters=4, filters=(4, 8), sparse=True))
    with pytest.raises(LarsegError, match="sparse: ONNX export is not supported"):
        export_onnx(net, io.BytesIO())

"""Running a trained U-ResNet on real work: whole events of any size, several file formats, ONNX.

    import larseg
    net = larseg.load_model("models/larseg-sparse-cpu.pt")    # checkpoint, run directory or exported .onnx
    scores = net.predict(image)                        # (H, W) numpy -> (3, H, W): background, track, shower

    from larseg.infer import predict_files, open_input, export_onnx

The network itself runs through :class:`larseg.model.Predictor` (``larseg.load_model``
returns one); this package turns files into labelled files. See docs/inference.md.
"""

from larseg.conventions import CLASSES
from larseg.data.sources import open_input
from larseg.infer.predict import OUTPUT_PRODUCTS, PredictResult, predict_files
from larseg.model.onnx import export_onnx, read_onnx
from larseg.model.predictor import Predictor, load_model
from larseg.model.predictor import onnx_parity as parity
from larseg.model.tiles import predict_tiled, tile_starts

__all__ = [
    "CLASSES",
    "OUTPUT_PRODUCTS",
    "PredictResult",
    "Predictor",
    "export_onnx",
    "load_model",
    "open_input",
    "parity",
    "predict_files",
    "predict_tiled",
    "read_onnx",
    "tile_starts",
]

"""Running a trained U-ResNet on real work: whole events of any size, several file formats, ONNX.

    import larseg
    net = larseg.load_model("models/larseg-sparse-cpu.pt")    # checkpoint, run directory or exported .onnx
    scores = net.predict(image)                        # (H, W) numpy -> (3, H, W): background, track, shower

    from larseg.infer import predict_files, open_input, export_onnx

See docs/inference.md.
"""

from larseg.infer.onnx_export import export_onnx, parity, read_onnx
from larseg.infer.predict import OUTPUT_PRODUCTS, PredictResult, predict_files
from larseg.infer.segmenter import CLASSES, Segmenter, load
from larseg.infer.sources import open_input
from larseg.infer.tiles import predict_tiled, tile_starts

__all__ = [
    "CLASSES",
    "OUTPUT_PRODUCTS",
    "PredictResult",
    "Segmenter",
    "export_onnx",
    "load",
    "open_input",
    "parity",
    "predict_files",
    "predict_tiled",
    "read_onnx",
    "tile_starts",
]

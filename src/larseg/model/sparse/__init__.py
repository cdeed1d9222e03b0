"""Sparse U-ResNet: submanifold sparse convolutions on the active (non-zero) pixels, in pure PyTorch.

    from larseg.model import build_model
    model = build_model("sparse-cpu")          # a ModelConfig with sparse: true
    logits = model(images)                     # dense (N, 3, H, W), as the dense U-ResNet
    st = SparseTensor.from_dense(images)       # or SparseTensor.from_coords(coords, feats, shape, batch)
    site_logits = model.forward_sparse(st)     # (N_active, 3), in st.coords order

Modules: :mod:`~larseg.model.sparse.tensor` (sparse tensors, neighbour maps),
:mod:`~larseg.model.sparse.layers` (convolutions, norms, ResNet module),
:mod:`~larseg.model.sparse.network` (the networks), and the optional spconv kernels
:mod:`~larseg.model.sparse.spconv_backend`.
"""

from larseg.model.sparse.layers import (
    SparseBatchNorm,
    SparseDownConv2d,
    SparseGroupNorm,
    SparseLinear,
    SparseReLU,
    SparseResBlock,
    SparseUpConv2d,
    SubMConv2d,
    make_sparse_norm,
)
from larseg.model.sparse.network import BACKGROUND_LOGIT, SparseEncoder, SparseEncoderClassifier, SparseUResNet
from larseg.model.sparse.tensor import SparseGeometry, SparseTensor

__all__ = [
    "BACKGROUND_LOGIT",
    "SparseBatchNorm",
    "SparseDownConv2d",
    "SparseEncoder",
    "SparseEncoderClassifier",
    "SparseGeometry",
    "SparseGroupNorm",
    "SparseLinear",
    "SparseReLU",
    "SparseResBlock",
    "SparseTensor",
    "SparseUResNet",
    "SparseUpConv2d",
    "SubMConv2d",
    "make_sparse_norm",
]

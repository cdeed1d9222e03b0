"""The sparse backend of the U-ResNet: submanifold convolutions on the active (non-zero) pixels.

    from larseg.model import build_model
    model = build_model("sparse-cpu")          # a ModelConfig with sparse: true: a larseg.model.uresnet.SparseUResNet
    logits = model(images)                     # dense (N, 3, H, W), as the dense U-ResNet
    st = SparseTensor.from_dense(images)       # or SparseTensor.from_coords(coords, feats, shape, batch)
    site_logits = model.forward_sparse(st)     # (N_active, 3), in st.coords order

The network is the U-ResNet skeleton (:mod:`larseg.model.uresnet`) on the sparse
layer backend (:class:`larseg.model.backends.SparseLayers`). Modules:
:mod:`~larseg.model.sparse.tensor` (sparse tensors, neighbour maps),
:mod:`~larseg.model.sparse.layers` (convolutions, norms),
:mod:`~larseg.model.sparse.kernels` (the kernel contract: pure PyTorch or spconv) and
the optional spconv kernels :mod:`~larseg.model.sparse.spconv_backend`.
"""

from larseg.model.sparse.layers import (
    SparseBatchNorm,
    SparseDownConv2d,
    SparseGroupNorm,
    SparseLinear,
    SparseReLU,
    SparseUpConv2d,
    SubMConv2d,
    make_sparse_norm,
)
from larseg.model.sparse.tensor import SparseGeometry, SparseTensor

__all__ = [
    "SparseBatchNorm",
    "SparseDownConv2d",
    "SparseGeometry",
    "SparseGroupNorm",
    "SparseLinear",
    "SparseReLU",
    "SparseTensor",
    "SparseUpConv2d",
    "SubMConv2d",
    "make_sparse_norm",
]

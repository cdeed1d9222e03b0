"""spconv 2.x kernels for the sparse layers (``sparse_backend: spconv``; optional, ``pip install spconv==2.3.8``).

The layers keep their parameters (dense layouts); each call runs spconv's
``SubMConv2d`` / ``SparseConv2d`` / ``SparseInverseConv2d`` with those weights
converted to spconv's ``(Cout, kh, kw, Cin)`` through ``torch.func.functional_call``,
so gradients reach the layer's own parameters and checkpoints are the same for both
backends. spconv's index pairs are cached per image batch in the geometry (one
``indice_key`` per level and kernel), its coordinates are passed as contiguous int32
(a strided view is read wrongly without an error), and odd sides are padded to even
so a stride-2 level has the torch backend's ``ceil(H / 2) x ceil(W / 2)`` sites.

spconv 2.3.8 calls ``torch.cuda.current_stream()`` (through its ``get_current_stream``)
before choosing its CPU path, e.g. in every backward, which fails on a machine without
CUDA. :func:`load_spconv` therefore replaces that function, in spconv's own modules
only and only when ``torch.cuda.is_available()`` is False, by one returning the null
stream 0, which the CPU kernels ignore.
"""

from __future__ import annotations

from types import ModuleType

import torch
from torch import nn
from torch.func import functional_call

from larseg.errors import LarsegError
from larseg.model.sparse.tensor import SparseTensor

_spconv: ModuleType | None = None


def _null_stream() -> int:
    return 0


def load_spconv() -> ModuleType:
    """``spconv.pytorch``, patched for CUDA-less machines (see the module docstring); LarsegError if missing."""
    global _spconv
    if _spconv is None:
        try:
            import spconv.pytorch as spconv
            from spconv.pytorch import cppcore, ops, utils
            from spconv.pytorch import hash as spconv_hash
        except ImportError:
            raise LarsegError("sparse_backend 'spconv' needs the spconv package: pip install spconv==2.3.8 "
                              "(CPU; spconv-cu120 etc. for CUDA), or use sparse_backend: torch") from None
        if not torch.cuda.is_available():
            for module in (cppcore, ops, spconv_hash, utils):
                if hasattr(module, "get_current_stream"):
                    module.get_current_stream = _null_stream
        _spconv = spconv
    return _spconv


def _module(layer: nn.Module, kind: str, key: str) -> nn.Module:
    """The spconv module running ``layer`` with index key ``key`` (made once; its own weight is never used)."""
    cache = layer.__dict__.setdefault("_spconv_modules", {})
    if key not in cache:
        sp = load_spconv()
        cin, cout = layer.in_channels, layer.out_channels
        if kind == "subm":
            cache[key] = sp.SubMConv2d(cin, cout, layer.kernel_size, bias=False, indice_key=key)
        elif kind == "down":
            cache[key] = sp.SparseConv2d(cin, cout, 2, 2, bias=False, indice_key=key)
        else:
            cache[key] = sp.SparseInverseConv2d(cin, cout, 2, bias=False, indice_key=key)
    return cache[key]


def _run(module: nn.Module, weight: torch.Tensor, x: SparseTensor, even: bool = False):
    """spconv's output tensor of ``module`` on ``x`` with ``weight`` (Cout, kh, kw, Cin); records new index pairs.

    ``even`` pads the spatial shape to even sides (for the stride-2 conv).
    """
    sp = load_spconv()
    geometry = x.geometry
    maps = geometry.levels[x.level].maps
    if "spconv_indices" not in maps:
        maps["spconv_indices"] = x.coords.to(torch.int32).contiguous()
    h, w = x.shape
    shape = [h + h % 2, w + w % 2] if even else [h, w]
    tensor = sp.SparseConvTensor(x.feats.contiguous(), maps["spconv_indices"], shape, x.batch_size,
                                 indice_dict=geometry.spconv_cache)
    if weight.shape != module.weight.shape:
        raise RuntimeError(f"spconv weight layout {tuple(module.weight.shape)} is not (Cout, kh, kw, Cin)")
    out = functional_call(module, {"weight": weight.contiguous()}, (tensor,))
    geometry.spconv_cache.update(out.indice_dict)
    return out


def subm_conv(layer: nn.Module, x: SparseTensor) -> torch.Tensor:
    """Features of a submanifold conv (weight (Cout, Cin, k, k)) at the sites of ``x``."""
    module = _module(layer, "subm", f"subm{x.level}k{layer.kernel_size}")
    return _run(module, layer.weight.permute(0, 2, 3, 1), x).features


def down_conv(layer: nn.Module, x: SparseTensor) -> tuple[torch.Tensor, int]:
    """Features and level of a 2x2 stride-2 conv (weight (Cout, Cin, 2, 2)); registers the coarser level."""
    out = _run(_module(layer, "down", f"down{x.level}"), layer.weight.permute(0, 2, 3, 1), x, even=True)
    geometry = x.geometry
    if len(geometry.levels) == x.level + 1:
        geometry.add_level(out.indices, (int(out.spatial_shape[0]), int(out.spatial_shape[1])))
    return out.features, x.level + 1


def up_conv(layer: nn.Module, x: SparseTensor) -> torch.Tensor:
    """Features of a 2x2 stride-2 transposed conv (weight (Cin, Cout, 2, 2)) at the sites of ``x.level - 1``."""
    module = _module(layer, "up", f"down{x.level - 1}")
    return _run(module, layer.weight.permute(1, 2, 3, 0), x).features

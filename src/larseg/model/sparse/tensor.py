"""Sparse image batches: the active sites of every resolution level and the neighbour maps between them.

A :class:`SparseTensor` is a feature matrix ``feats`` (N, C) over the active sites of
one level of a :class:`SparseGeometry`. The geometry holds, per level, the site
coordinates ``coords`` (N, 3) int64 ``[batch, row, col]`` and the image shape, and
builds each neighbour map once (on first use) for every layer of that level:

* ``submanifold_map(level, k)`` (N, k*k): for each site, the index of the site at
  each offset of a k x k window (row-major, as a conv weight's ``[kh, kw]``), or N
  where that pixel is not active (the layers append a zero row to ``feats``);
* ``down_map(level)`` (N_coarse, 4): the 2x2 stride-2 children of each site of
  ``level + 1``, ``[kh * 2 + kw]``, N_fine where missing. Level ``level + 1`` is
  ``unique((batch, row // 2, col // 2))`` of ``level``, shape ``ceil(H / 2) x ceil(W / 2)``;
* ``up_index(level)`` (N_fine,): ``4 * parent + offset`` of each site of ``level``,
  so a transposed 2x2 stride-2 conv lands exactly on the stored finer sites.

Maps are built with torch ops only (linear keys ``(b * H + r) * W + c``, sort,
``searchsorted``, ``unique``), vectorised, on the coordinates' device.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class _Level:
    coords: torch.Tensor  # (N, 3) int64, contiguous
    shape: tuple[int, int]
    sorted_keys: torch.Tensor | None = None
    order: torch.Tensor | None = None  # sites in key order: sorted_keys == keys[order]
    maps: dict = field(default_factory=dict)


def linear_keys(coords: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """``(b * H + r) * W + c`` of each ``[b, r, c]`` row: unique per site, ascending in (b, r, c) order."""
    h, w = shape
    return (coords[:, 0] * h + coords[:, 1]) * w + coords[:, 2]


class SparseGeometry:
    """Active sites of one image batch at each resolution level (0: full resolution) and their cached maps.

    ``backend`` is ``torch`` (the reference) or ``spconv`` (see :mod:`larseg.model.sparse.spconv_backend`):
    with ``spconv`` the coarser levels are the ones spconv builds (same sites, spconv's order).
    """

    def __init__(self, coords: torch.Tensor, shape: tuple[int, int], batch_size: int, backend: str = "torch"):
        self.batch_size = int(batch_size)
        self.backend = backend
        self.levels: list[_Level] = [_Level(coords, (int(shape[0]), int(shape[1])))]
        #: spconv's per-batch cache of index pairs (its ``indice_dict``), shared by every level.
        self.spconv_cache: dict = {}

    def coords(self, level: int = 0) -> torch.Tensor:
        return self.levels[level].coords

    def shape(self, level: int = 0) -> tuple[int, int]:
        return self.levels[level].shape

    def count(self, level: int = 0) -> int:
        return self.levels[level].coords.shape[0]

    def batch_index(self, level: int = 0) -> torch.Tensor:
        """Image index (N,) of each site of ``level``."""
        return self.levels[level].coords[:, 0]

    def add_level(self, coords: torch.Tensor, shape: tuple[int, int]) -> int:
        """Register the sites of the next coarser level (backends that compute them themselves); returns it."""
        self.levels.append(_Level(coords.to(torch.int64).contiguous(), shape))
        return len(self.levels) - 1

    def _sorted(self, level: int) -> tuple[torch.Tensor, torch.Tensor]:
        lv = self.levels[level]
        if lv.sorted_keys is None:
            lv.sorted_keys, lv.order = torch.sort(linear_keys(lv.coords, lv.shape))
        return lv.sorted_keys, lv.order

    def check(self) -> None:
        """ValueError if level 0 has a site twice."""
        keys, _ = self._sorted(0)
        if keys.numel() > 1 and bool((keys[1:] == keys[:-1]).any()):
            raise ValueError("sparse coordinates hold the same [batch, row, col] site more than once")

    def submanifold_map(self, level: int, kernel: int = 3) -> torch.Tensor:
        """Neighbour indices (N, kernel**2) of the sites of ``level``; N where the neighbour is not active."""
        lv = self.levels[level]
        key = ("subm", kernel)
        if key not in lv.maps:
            lv.maps[key] = self._build_submanifold(level, kernel)
        return lv.maps[key]

    def _build_submanifold(self, level: int, kernel: int) -> torch.Tensor:
        lv = self.levels[level]
        n, device = lv.coords.shape[0], lv.coords.device
        if n == 0:
            return torch.zeros(0, kernel * kernel, dtype=torch.int64, device=device)
        h, w = lv.shape
        sorted_keys, order = self._sorted(level)
        p = kernel // 2
        steps = torch.arange(-p, p + 1, device=device)
        dr = steps.repeat_interleave(kernel)  # row offset of window position kh * kernel + kw
        dc = steps.repeat(kernel)
        b, r, c = lv.coords[:, :1], lv.coords[:, 1:2] + dr, lv.coords[:, 2:3] + dc
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        query = (b * h + r) * w + c  # (N, k*k)
        pos = torch.searchsorted(sorted_keys, query).clamp_(max=n - 1)
        hit = inside & (sorted_keys[pos] == query)
        return torch.where(hit, order[pos], n)

    def down_map(self, level: int) -> torch.Tensor:
        """Children (N_coarse, 4) in ``level`` of each site of ``level + 1`` (built here, with level + 1)."""
        lv = self.levels[level]
        if "down" not in lv.maps:
            self._build_down(level)
        return lv.maps["down"]

    def up_index(self, level: int) -> torch.Tensor:
        """``4 * parent + offset`` (N,) of each site of ``level``: its place in the 2x2 outputs of ``level + 1``."""
        lv = self.levels[level]
        if "up" not in lv.maps:
            self._build_down(level)
        return lv.maps["up"]

    def _build_down(self, level: int) -> None:
        lv = self.levels[level]
        if len(self.levels) != level + 1:
            raise RuntimeError(f"level {level + 1} of this geometry was built by another backend")
        h, w = lv.shape
        h2, w2 = (h + 1) // 2, (w + 1) // 2
        co = lv.coords
        n = co.shape[0]
        coarse = (co[:, 0] * h2 + co[:, 1] // 2) * w2 + co[:, 2] // 2
        ukeys, parent = torch.unique(coarse, sorted=True, return_inverse=True)
        up = parent * 4 + (co[:, 1] % 2) * 2 + co[:, 2] % 2
        down = torch.full((ukeys.shape[0] * 4,), n, dtype=torch.int64, device=co.device)
        down[up] = torch.arange(n, device=co.device)
        lv.maps["down"] = down.view(-1, 4)
        lv.maps["up"] = up
        rc = ukeys % (h2 * w2)
        coords = torch.stack([ukeys // (h2 * w2), rc // w2, rc % w2], dim=1).contiguous()
        self.levels.append(_Level(coords, (h2, w2), sorted_keys=ukeys,
                                  order=torch.arange(ukeys.shape[0], device=co.device)))


@dataclass
class SparseTensor:
    """Features (N, C) of the active sites of one level of a :class:`SparseGeometry`.

    ``coords``, ``shape`` and ``batch_size`` describe that level. Build one with
    :meth:`from_dense` or :meth:`from_coords`; layers return new tensors on the same geometry.
    """

    feats: torch.Tensor
    geometry: SparseGeometry
    level: int = 0

    @property
    def coords(self) -> torch.Tensor:
        """(N, 3) int64 ``[batch, row, col]``."""
        return self.geometry.coords(self.level)

    @property
    def shape(self) -> tuple[int, int]:
        return self.geometry.shape(self.level)

    @property
    def batch_size(self) -> int:
        return self.geometry.batch_size

    def replace(self, feats: torch.Tensor, level: int | None = None) -> SparseTensor:
        """A tensor with new features on the same sites (or on ``level``)."""
        return SparseTensor(feats, self.geometry, self.level if level is None else level)

    @classmethod
    def from_dense(cls, x: torch.Tensor, backend: str = "torch") -> SparseTensor:
        """The pixels of ``x`` (B, C, H, W) with any channel > 0 (any memory layout); feats are their values."""
        if x.dim() != 4:
            raise ValueError(f"expected a dense batch (B, C, H, W), got shape {tuple(x.shape)}")
        active = (x > 0).any(dim=1)
        coords = torch.nonzero(active).contiguous()  # (b, r, c) ascending
        b, r, c = coords.unbind(1)
        feats = x.permute(0, 2, 3, 1)[b, r, c]
        geometry = SparseGeometry(coords, (x.shape[2], x.shape[3]), x.shape[0], backend)
        return cls(feats, geometry)

    @classmethod
    def from_coords(cls, coords: torch.Tensor, feats: torch.Tensor, shape: tuple[int, int], batch_size: int,
                    backend: str = "torch") -> SparseTensor:
        """Sites ``coords`` (N, 3) ``[batch, row, col]`` in any order and layout, with features ``feats`` (N, C).

        Coordinates are copied to contiguous int64 (a strided or int32 view would be read
        wrongly by index kernels); ValueError if one is out of bounds or repeated.
        """
        if coords.dim() != 2 or coords.shape[1] != 3 or coords.is_floating_point():
            raise ValueError(f"coords must be integer (N, 3) [batch, row, col], got {coords.dtype} "
                             f"{tuple(coords.shape)}")
        if feats.dim() != 2 or feats.shape[0] != coords.shape[0]:
            raise ValueError(f"feats must be (N, C) with N = {coords.shape[0]} sites, got {tuple(feats.shape)}")
        coords = coords.to(torch.int64).contiguous()
        limits = torch.tensor([batch_size, shape[0], shape[1]], device=coords.device)
        if coords.numel() and bool(((coords < 0) | (coords >= limits)).any()):
            raise ValueError(f"sparse coordinates outside batch {batch_size} x shape {tuple(shape)}")
        geometry = SparseGeometry(coords, shape, batch_size, backend)
        geometry.check()
        return cls(feats, geometry)

    def to_dense(self, fill: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, H, W) with ``feats`` at the active sites and ``fill`` (C,) (default 0) elsewhere; differentiable."""
        h, w = self.shape
        c = self.feats.shape[1]
        out = self.feats.new_empty(self.batch_size, c, h, w)
        if fill is None:
            out.zero_()
        else:
            out.copy_(fill.to(out.dtype)[None, :, None, None].expand_as(out))
        b, r, col = self.coords.unbind(1)
        out.permute(0, 2, 3, 1).index_put_((b, r, col), self.feats)
        return out

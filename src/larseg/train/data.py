"""Training data: augmented views of PlaneDataset items, the particle classifier set, and the batch order.

Augmentation is a pure function of ``(seed, epoch, index)``, and the batch order of
``(seed, epoch)``: a resumed run, a run with DataLoader workers and a run over
several processes all see exactly the same images in the same global batches.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from larseg.conventions import PARTICLE_PDGS, PIXEL_THRESHOLD, pdg_to_class
from larseg.data.dataset import PlaneDataset
from larseg.errors import DataFileError, LarsegError
from larseg.train.config import AugmentConfig

PRIMARY = 0xFFFFFFFF


def _pad_to(arr: np.ndarray | torch.Tensor, rows: int, cols: int, value) -> torch.Tensor:
    t = torch.as_tensor(arr)
    h, w = t.shape[-2:]
    if h >= rows and w >= cols:
        return t
    out = torch.full((*t.shape[:-2], max(h, rows), max(w, cols)), value, dtype=t.dtype)
    out[..., :h, :w] = t
    return out


def augment_item(item: dict, cfg: AugmentConfig, rng: np.random.Generator, multiple: int = 1) -> dict:
    """Crop and flip one PlaneDataset item (image, label, instance, vertex adjusted together).

    Without a crop the image is zero-padded (bottom/right) to a multiple of ``multiple``.
    """
    image = item["image"]
    keys = [k for k in ("image", "label", "instance") if k in item]
    fill = {"image": 0.0, "label": 0, "instance": -1}
    h, w = image.shape[-2:]
    out = dict(item)
    vertex = item.get("vertex")
    vertex = vertex.clone() if vertex is not None else None
    if cfg.crop:
        s = cfg.crop
        for k in keys:
            out[k] = _pad_to(out[k], s, s, fill[k])
        h2, w2 = out["image"].shape[-2:]
        nz = torch.nonzero(out["image"][0] > 0) if cfg.crop_mode == "active" else torch.zeros((0, 2))
        if len(nz):
            r, c = (int(v) for v in nz[rng.integers(len(nz))])
            r0 = int(rng.integers(max(0, r - s + 1), min(r, h2 - s) + 1))
            c0 = int(rng.integers(max(0, c - s + 1), min(c, w2 - s) + 1))
        else:
            r0 = int(rng.integers(0, h2 - s + 1))
            c0 = int(rng.integers(0, w2 - s + 1))
        for k in keys:
            out[k] = out[k][..., r0:r0 + s, c0:c0 + s].clone()
        if vertex is not None:
            vertex -= torch.tensor([r0, c0], dtype=vertex.dtype)
            if not (0 <= vertex[0] < s and 0 <= vertex[1] < s):
                vertex[:] = float("nan")
        h, w = s, s
    elif multiple > 1:
        hp, wp = -(-h // multiple) * multiple, -(-w // multiple) * multiple
        for k in keys:
            out[k] = _pad_to(out[k], hp, wp, fill[k])
    for axis, enabled, size in ((-2, cfg.flip_rows, h), (-1, cfg.flip_cols, w)):
        if enabled and rng.random() < 0.5:
            for k in keys:
                out[k] = torch.flip(out[k], dims=(axis,))
            if vertex is not None:
                vertex[axis + 2] = size - 1 - vertex[axis + 2]
    if vertex is not None:
        out["vertex"] = vertex
    return out


def item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, epoch, index, 0x5EED])


class SegmentationData(Dataset):
    """PlaneDataset items keyed by ``(index, epoch)``, augmented deterministically.

    Errors reading an item are returned as ``{"error": message}`` so that they reach the
    main process as one line even from a DataLoader worker (the loop raises them).
    """

    def __init__(self, files, plane: int = 2, threshold: float = PIXEL_THRESHOLD, augment: AugmentConfig | None = None,
                 seed: int = 0, multiple: int = 1):
        self.base = PlaneDataset(files, plane=plane, threshold=threshold)
        self.augment = augment or AugmentConfig()
        self.seed = seed
        self.multiple = multiple

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, key):
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        try:
            item = self.base[index]
        except LarsegError as exc:
            return {"error": str(exc)}
        return augment_item(item, self.augment, item_rng(self.seed, epoch, index), self.multiple)


class ParticleData(Dataset):
    """Single-particle images with the class of their primary particle (e-, gamma, mu-, pi-, p)."""

    def __init__(self, files, plane: int = 2, threshold: float = PIXEL_THRESHOLD, augment: AugmentConfig | None = None,
                 seed: int = 0, multiple: int = 1):
        self.base = PlaneDataset(files, plane=plane, threshold=threshold, labels=False)
        self.augment = augment or AugmentConfig()
        self.seed = seed
        self.multiple = multiple
        for f in self.base.files:
            if "truth" not in f.products["particle"]:
                raise DataFileError(f.path, "no particle 'truth' product: cannot label images by particle type")

    def __len__(self) -> int:
        return len(self.base)

    def target(self, index: int) -> int:
        f, entry = self.base.locate(index)
        parts = f.particles("truth", entry)
        primary = parts[parts["parent_trackid"] == PRIMARY]
        if len(primary) != 1:
            raise DataFileError(f.path, f"entry {entry}: {len(primary)} primary particles; the classifier "
                                        "needs single-particle images (simulation preset 'single')")
        cls = int(pdg_to_class(primary["pdg"])[0])
        if cls < 0:
            raise DataFileError(f.path, f"entry {entry}: primary pdg {int(primary['pdg'][0])} is not one of "
                                        f"{', '.join(map(str, PARTICLE_PDGS))}")
        return cls

    def __getitem__(self, key):
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        try:
            item = self.base[index]
            target = self.target(index)
        except LarsegError as exc:
            return {"error": str(exc)}
        item = augment_item(item, self.augment, item_rng(self.seed, epoch, index), self.multiple)
        item["target"] = torch.tensor(target, dtype=torch.int64)
        return item


def collate(items: list[dict]) -> dict:
    errors = [it["error"] for it in items if "error" in it]
    if errors:
        return {"error": errors[0]}
    out = {}
    for k in items[0]:
        vals = [it[k] for it in items]
        out[k] = torch.stack(vals) if isinstance(vals[0], torch.Tensor) else torch.as_tensor(vals)
    return out


def epoch_order(n: int, seed: int, epoch: int, images_per_epoch: int = 0) -> np.ndarray:
    """The image order of one epoch: a permutation seeded by (seed, epoch); a random subset (or
    repeated permutations) when ``images_per_epoch`` is set."""
    rng = np.random.default_rng([seed, epoch, 0x0DE5])
    want = images_per_epoch or n
    parts = []
    while sum(len(p) for p in parts) < want:
        parts.append(rng.permutation(n))
    return np.concatenate(parts)[:want]


class GlobalBatchSampler:
    """The distributed batch sampler: yields this process's micro-batches of ``(index, epoch)`` keys.

    Every epoch is cut into global batches of ``batch_size`` images (the last incomplete one
    dropped); global batch ``k`` is split into ``world_size`` equal consecutive slices, one per
    rank, and each slice into micro-batches of at most ``micro_batch`` images. The images of a
    global batch therefore do not depend on the number of processes (torch's DistributedSampler
    interleaves ranks across the whole epoch, which would change the global batches with it).
    ``start_batch`` skips the first batches of the epoch (resuming).
    """

    def __init__(self, n: int, batch_size: int, world_size: int = 1, rank: int = 0, micro_batch: int = 0,
                 seed: int = 0, epoch: int = 0, images_per_epoch: int = 0, start_batch: int = 0):
        if batch_size % world_size:
            raise LarsegError(f"batch size {batch_size} is not divisible by the {world_size} processes")
        self.n, self.batch_size, self.world_size, self.rank = n, batch_size, world_size, rank
        self.per_rank = batch_size // world_size
        self.micro = micro_batch if 0 < micro_batch < self.per_rank else self.per_rank
        self.seed, self.epoch, self.images_per_epoch, self.start_batch = seed, epoch, images_per_epoch, start_batch

    @property
    def batches_per_epoch(self) -> int:
        return (self.images_per_epoch or self.n) // self.batch_size

    @property
    def micro_per_batch(self) -> int:
        return -(-self.per_rank // self.micro)

    def __iter__(self):
        order = epoch_order(self.n, self.seed, self.epoch, self.images_per_epoch)
        for k in range(self.start_batch, self.batches_per_epoch):
            batch = order[k * self.batch_size:(k + 1) * self.batch_size]
            mine = batch[self.rank * self.per_rank:(self.rank + 1) * self.per_rank]
            for j in range(0, self.per_rank, self.micro):
                yield [(int(i), self.epoch) for i in mine[j:j + self.micro]]

    def __len__(self) -> int:
        return (self.batches_per_epoch - self.start_batch) * self.micro_per_batch

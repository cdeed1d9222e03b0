"""The loss of Sec. IV B: per-pixel softmax cross-entropy times a weight map, normalised per image.

``loss(image) = sum_pixels w * ce / sum_pixels w``, averaged over the images of a batch.
Every image gets its own weight map (the original Caffe layer applied the first
image's map to the whole batch; this does not).

Weight schemes (:func:`weight_maps`):

``pixel``  the paper's pixel-wise loss (PL) weighting. Pixel categories of one image:

           1. background pixels within ``edge_radius`` (2) pixels of a non-zero pixel,
           2. the other background pixels,
           3. non-zero pixels within ``vertex_radius`` (4) pixels of the event vertex,
           4. one category per particle instance: its non-zero pixels not in category 3
              (non-zero pixels that belong to no instance, e.g. noise above threshold,
              form one more category of their own).

           Each category's weight is 1 / (its number of pixels in the image); empty
           categories are skipped. "Within N pixels" is the Chebyshev distance
           (max(|drow|, |dcol|) <= N): a (2N+1)x(2N+1) square around the pixel, which
           is what a stride-1 max-pool dilation (or N 3x3 dilations) computes. A
           "non-zero pixel" is one whose (thresholded) image value is > 0. An image
           whose vertex lies outside it (NaN) has no category 3.
``class``  U-Net's class weighting: each class's weight is 1 / (its number of pixels in the image).
``none``   every pixel weighs 1 (plain mean cross-entropy per image).

Maps are computed on the tensors' device with torch ops, vectorised over the batch.
Pixels whose label equals ``ignore_index`` get weight 0 in every scheme.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from larseg.errors import LarsegError

SCHEMES = ("pixel", "class", "none")

#: PL category codes returned by :func:`pixel_categories` (instances are INSTANCE0 + k).
CAT_EDGE, CAT_FAR, CAT_VERTEX, CAT_UNASSIGNED, INSTANCE0 = 1, 2, 3, 4, 5


def _squeeze_image(image: torch.Tensor) -> torch.Tensor:
    return image[:, 0] if image.dim() == 4 else image


def pixel_categories(image: torch.Tensor, instance: torch.Tensor, vertex: torch.Tensor,
                     edge_radius: int = 2, vertex_radius: int = 4) -> torch.Tensor:
    """Per-pixel PL category (B, H, W) int64: 1 edge background, 2 other background, 3 vertex,
    4 non-zero without instance, ``5 + k`` for the k-th distinct instance id of the image (ascending)."""
    img = _squeeze_image(image)
    _, h, w = img.shape
    nonzero = img > 0
    near = F.max_pool2d(nonzero[:, None].float(), 2 * edge_radius + 1, stride=1, padding=edge_radius)[:, 0] > 0
    cat = torch.where(near, CAT_EDGE, CAT_FAR).to(torch.int64)
    vertex = vertex.to(img.device, torch.float32)
    valid = torch.isfinite(vertex).all(dim=1)
    vr = torch.where(valid, torch.round(vertex[:, 0]), torch.full_like(vertex[:, 0], -1e9))
    vc = torch.where(valid, torch.round(vertex[:, 1]), torch.full_like(vertex[:, 1], -1e9))
    rows = torch.arange(h, device=img.device, dtype=torch.float32)
    cols = torch.arange(w, device=img.device, dtype=torch.float32)
    in_rows = (rows[None, :] - vr[:, None]).abs() <= vertex_radius
    in_cols = (cols[None, :] - vc[:, None]).abs() <= vertex_radius
    box = in_rows[:, :, None] & in_cols[:, None, :]
    inst = instance.to(img.device)
    # instance ids -> 0, 1, 2, ... per image (ascending), -1 -> "unassigned"
    bi, ri, ci = torch.nonzero(nonzero & ~box, as_tuple=True)
    ids = inst[bi, ri, ci]
    assigned = ids >= 0
    codes = torch.full_like(ids, CAT_UNASSIGNED)
    if assigned.any():
        keys = torch.stack([bi[assigned], ids[assigned]], dim=1)
        uniq, inverse = torch.unique(keys, dim=0, return_inverse=True)
        first = torch.searchsorted(uniq[:, 0].contiguous(), uniq[:, 0].contiguous(), right=False)
        rank_in_image = torch.arange(len(uniq), device=img.device) - first
        codes[assigned] = INSTANCE0 + rank_in_image[inverse]
    cat[bi, ri, ci] = codes
    cat[nonzero & box] = CAT_VERTEX
    return cat


def pixel_weights(image: torch.Tensor, instance: torch.Tensor, vertex: torch.Tensor,
                  edge_radius: int = 2, vertex_radius: int = 4) -> torch.Tensor:
    """The PL weight map (B, H, W): 1 / (pixels in the pixel's category) in its image."""
    cat = pixel_categories(image, instance, vertex, edge_radius, vertex_radius)
    b = cat.shape[0]
    n_cat = int(cat.max()) + 1
    keys = cat + n_cat * torch.arange(b, device=cat.device)[:, None, None]
    counts = torch.bincount(keys.flatten(), minlength=b * n_cat).to(torch.float32)
    return 1.0 / counts[keys]


def class_weights(label: torch.Tensor, num_classes: int = 3) -> torch.Tensor:
    """U-Net weighting (B, H, W): 1 / (pixels of the pixel's class) in its image."""
    lab = label.clamp(0, num_classes - 1)
    b = lab.shape[0]
    keys = lab + num_classes * torch.arange(b, device=lab.device)[:, None, None]
    counts = torch.bincount(keys.flatten(), minlength=b * num_classes).to(torch.float32)
    return 1.0 / counts[keys]


def check_labels(label: torch.Tensor, num_classes: int = 3, ignore_index: int | None = None) -> None:
    """LarsegError unless every label is a class (0..num_classes-1) or ``ignore_index``."""
    bad = (label < 0) | (label >= num_classes)
    if ignore_index is not None:
        bad &= label != ignore_index
    if bool(bad.any()):
        value = int(label[bad][0])
        raise LarsegError(f"label value {value} out of range: expected 0..{num_classes - 1}"
                          + (f" or {ignore_index} (ignored)" if ignore_index is not None else ""))


@torch.no_grad()
def weight_maps(scheme: str, image: torch.Tensor, label: torch.Tensor, instance: torch.Tensor | None = None,
                vertex: torch.Tensor | None = None, edge_radius: int = 2, vertex_radius: int = 4,
                num_classes: int = 3, ignore_index: int | None = -1) -> torch.Tensor:
    """The per-pixel weights (B, H, W) float32 of ``scheme`` (``pixel``, ``class`` or ``none``)."""
    if scheme == "pixel":
        if instance is None or vertex is None:
            raise ValueError("pixel weighting needs instance and vertex")
        w = pixel_weights(image, instance, vertex, edge_radius, vertex_radius)
    elif scheme == "class":
        w = class_weights(label, num_classes)
    elif scheme == "none":
        w = torch.ones(label.shape, dtype=torch.float32, device=label.device)
    else:
        raise LarsegError(f"unknown loss weighting '{scheme}' (known: {', '.join(SCHEMES)})")
    if ignore_index is not None:
        w = w.masked_fill(label == ignore_index, 0.0)
    return w


def per_image_loss(logits: torch.Tensor, label: torch.Tensor, weights: torch.Tensor,
                   ignore_index: int | None = -1) -> torch.Tensor:
    """Weighted cross-entropy of every image (B,): sum(w * ce) / sum(w)."""
    target = label if ignore_index is None else label.masked_fill(label == ignore_index, 0)
    ce = F.cross_entropy(logits.float(), target, reduction="none")
    w = weights.to(ce.dtype)
    return (w * ce).sum(dim=(1, 2)) / w.sum(dim=(1, 2)).clamp_min(torch.finfo(ce.dtype).tiny)


def segmentation_loss(logits: torch.Tensor, label: torch.Tensor, image: torch.Tensor | None = None,
                      instance: torch.Tensor | None = None, vertex: torch.Tensor | None = None,
                      scheme: str = "pixel", edge_radius: int = 2, vertex_radius: int = 4,
                      ignore_index: int | None = -1) -> torch.Tensor:
    """Batch loss: the mean over images of the per-image normalised weighted cross-entropy."""
    if scheme == "pixel" and image is None:
        raise ValueError("pixel weighting needs the image")
    w = weight_maps(scheme, image, label, instance, vertex, edge_radius, vertex_radius,
                    num_classes=logits.shape[1], ignore_index=ignore_index)
    return per_image_loss(logits, label, w, ignore_index).mean()

"""Building blocks: normalisation layers, the ResNet module (for both layer backends), weight
initialisation and a batch norm synchronised across processes."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

#: Normalisation layers a ModelConfig may name.
NORMS = ("batch", "group")


def make_norm(channels: int, norm: str = "batch", groups: int = 8) -> nn.Module:
    """A normalisation layer over ``channels``: BatchNorm2d (the paper), or GroupNorm.

    GroupNorm normalises each image over groups of channels and all pixels, so training
    and inference compute the same function; ``groups`` is lowered to the largest divisor
    of ``channels`` not above it.
    """
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "group":
        g = max(d for d in range(1, min(groups, channels) + 1) if channels % d == 0)
        return nn.GroupNorm(g, channels)
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


class ResBlock(nn.Module):
    """The paper's ResNet module: two 3x3 convolutions, each followed by a norm and ReLU, plus a shortcut.

    Written once for both layer backends (``layers``: :data:`larseg.model.backends.DENSE`
    or ``SPARSE``). ``norm`` selects the normalisation (see :func:`make_norm`; BN by
    default). The shortcut is the identity, or a 1x1 projection + norm where the number
    of channels or the resolution changes. ``out = relu(branch(x) + shortcut(x))``, where the
    branch is conv-norm-ReLU-conv-norm, followed by one more ReLU when the backend's
    ``relu_in_branch`` is set: the dense network follows the paper's text ("each followed by
    BN and ReLU"); the sparse one uses the standard ResNet module, as its shipped weights do.
    """

    def __init__(self, layers, cin: int, cout: int, stride: int = 1, norm: str = "batch", groups: int = 8):
        super().__init__()
        self.layers = layers
        self.conv1 = layers.conv(cin, cout, 3, stride=stride)
        self.bn1 = layers.norm(cout, norm, groups)
        self.conv2 = layers.conv(cout, cout, 3)
        self.bn2 = layers.norm(cout, norm, groups)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(layers.projection(cin, cout, stride=stride), layers.norm(cout, norm, groups))

    def forward(self, x):
        L = self.layers  # noqa: N806
        out = L.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if L.relu_in_branch:
            out = L.relu(out)
        skip = x if self.shortcut is None else self.shortcut(x)
        return L.relu(L.add(out, skip))


def init_weights(model: nn.Module) -> None:
    """Kaiming normal (fan out, ReLU) for convolutions, unit/zero norms, N(0, 0.01) linear layers."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)


class CrossProcessBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are computed over the batches of all processes.

    PyTorch's ``SyncBatchNorm`` runs on GPUs only; this one works with any
    ``torch.distributed`` backend (gloo on CPU included) through the differentiable
    ``torch.distributed.nn.functional.all_reduce``. Statistics are taken in two passes
    (global mean, then global mean squared deviation) and in float32, so a run over
    ``P`` processes normalises exactly like one process seeing the whole batch (up to
    rounding). Outside training or without an initialised process group it is a plain BatchNorm2d.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        xf = x.float()
        count = torch.tensor([x.numel() / x.shape[1]], dtype=torch.float32, device=x.device)
        total = all_reduce(torch.cat([xf.sum(dim=(0, 2, 3)), count]))
        n = total[-1]
        mean = total[:-1] / n
        centred = xf - mean[None, :, None, None]
        var = all_reduce(centred.pow(2).sum(dim=(0, 2, 3))) / n
        out = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            out = out * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                unbiased = var * (n / torch.clamp(n - 1, min=1))
                self.running_mean.mul_(1 - m).add_(mean.detach().to(self.running_mean.dtype), alpha=m)
                self.running_var.mul_(1 - m).add_(unbiased.detach().to(self.running_var.dtype), alpha=m)
        return out.to(x.dtype)


def convert_batchnorm(module: nn.Module, device_type: str) -> nn.Module:
    """Batch norms synchronised across processes: torch's SyncBatchNorm on GPUs, ours elsewhere."""
    if device_type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    out = module
    if isinstance(module, nn.BatchNorm2d) and not isinstance(module, CrossProcessBatchNorm2d):
        out = CrossProcessBatchNorm2d(module.num_features, module.eps, module.momentum, module.affine,
                                      module.track_running_stats)
        out.load_state_dict(module.state_dict())
        out.to(next(iter(module.state_dict().values())).device)
    for name, child in module.named_children():
        out.add_module(name, convert_batchnorm(child, device_type))
    return out

"""Sparse U-ResNet: layers against their dense twins, neighbour maps, batching, the network, the spconv backend."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from larseg import __version__
from larseg.config import load_preset, to_yaml
from larseg.model import (
    ModelConfig,
    build_classifier,
    build_model,
    load_encoder_weights,
    load_network,
    save_atomic,
)
from larseg.model.backends import SPARSE
from larseg.model.blocks import CrossProcessBatchNorm2d, ResBlock, convert_batchnorm
from larseg.model.io import FORMAT
from larseg.model.predictor import Predictor
from larseg.model.sparse import (
    SparseBatchNorm,
    SparseDownConv2d,
    SparseGroupNorm,
    SparseTensor,
    SparseUpConv2d,
    SubMConv2d,
)
from larseg.model.uresnet import BACKGROUND_LOGIT, SparseEncoderClassifier, SparseUResNet, UResNet
from larseg.train.loss import per_image_loss, weight_maps

TOL = {"atol": 1e-5, "rtol": 1e-5}


def tiny(**kw) -> ModelConfig:
    args = {"name": "tiny-sparse", "stem_filters": 4, "filters": (4, 8, 16), "sparse": True, "norm_groups": 2}
    args.update(kw)
    return ModelConfig(**args)


def sparse_images(b: int, h: int, w: int, channels: int = 1, frac: float = 0.2, seed: int = 0) -> torch.Tensor:
    """(b, channels, h, w): random positive values on ~frac of the pixels (and a line per image), zero elsewhere."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(b, 1, h, w, generator=g) < frac
    mask[:, :, h // 2, 1:w - 1] = True
    return (torch.rand(b, channels, h, w, generator=g) + 0.1) * mask


def at_sites(dense: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """Rows (N, C) of ``dense`` (B, C, H, W) at ``coords`` [b, r, c]."""
    b, r, c = coords.unbind(1)
    return dense.permute(0, 2, 3, 1)[b, r, c]


def leaf(st: SparseTensor) -> SparseTensor:
    return st.replace(st.feats.detach().clone().requires_grad_())


# --- (a)-(c): layers equal their dense twins at the active sites, values and gradients


@pytest.mark.parametrize("kernel", [3, 5])
def test_submanifold_conv_matches_dense(kernel):
    torch.manual_seed(0)
    x = sparse_images(2, 13, 17, channels=3)
    st = leaf(SparseTensor.from_dense(x))
    conv = SubMConv2d(3, 5, kernel, bias=True)
    nn.init.normal_(conv.bias)
    out = conv(st).feats
    grad = torch.randn_like(out)
    (out * grad).sum().backward()

    xd = x.clone().requires_grad_()
    w, bias = conv.weight.detach().clone().requires_grad_(), conv.bias.detach().clone().requires_grad_()
    ref = at_sites(F.conv2d(xd, w, bias, padding=kernel // 2), st.coords)
    (ref * grad).sum().backward()  # loss over the active output sites only
    torch.testing.assert_close(out, ref, **TOL)
    torch.testing.assert_close(conv.weight.grad, w.grad, **TOL)
    torch.testing.assert_close(conv.bias.grad, bias.grad, **TOL)
    torch.testing.assert_close(st.feats.grad, at_sites(xd.grad, st.coords), **TOL)


@pytest.mark.parametrize("shape", [(12, 16), (13, 17)])
def test_down_conv_matches_dense(shape):
    torch.manual_seed(1)
    h, w = shape
    x = sparse_images(2, h, w, channels=3, seed=1)
    st = leaf(SparseTensor.from_dense(x))
    conv = SparseDownConv2d(3, 6)
    down = conv(st)
    assert down.level == 1 and down.shape == ((h + 1) // 2, (w + 1) // 2)
    grad = torch.randn_like(down.feats)
    (down.feats * grad).sum().backward()

    xd = x.clone().requires_grad_()
    wd = conv.weight.detach().clone().requires_grad_()
    dense = F.conv2d(F.pad(xd, (0, w % 2, 0, h % 2)), wd, stride=2)
    # the coarse active sites are exactly the 2x2 windows holding an active pixel
    active = F.max_pool2d(F.pad((x > 0).any(1, keepdim=True).float(), (0, w % 2, 0, h % 2)), 2)[:, 0] > 0
    assert torch.equal(down.coords, torch.nonzero(active))
    ref = at_sites(dense, down.coords)
    (ref * grad).sum().backward()
    torch.testing.assert_close(down.feats, ref, **TOL)
    torch.testing.assert_close(conv.weight.grad, wd.grad, **TOL)
    torch.testing.assert_close(st.feats.grad, at_sites(xd.grad, st.coords), **TOL)


def test_up_conv_matches_dense_transposed_conv():
    torch.manual_seed(2)
    x = sparse_images(2, 13, 17, seed=2)
    fine = SparseTensor.from_dense(x)
    coarse = SparseDownConv2d(1, 4)(fine)
    coarse = leaf(coarse.replace(torch.randn_like(coarse.feats)))
    conv = SparseUpConv2d(4, 3, bias=True)
    nn.init.normal_(conv.bias)
    up = conv(coarse)
    assert up.level == 0 and torch.equal(up.coords, fine.coords)
    grad = torch.randn_like(up.feats)
    (up.feats * grad).sum().backward()

    cd = coarse.to_dense().detach().requires_grad_()  # (2, 4, 7, 9), zero at inactive coarse sites
    w, bias = conv.weight.detach().clone().requires_grad_(), conv.bias.detach().clone().requires_grad_()
    ref = at_sites(F.conv_transpose2d(cd, w, bias, stride=2), fine.coords)
    (ref * grad).sum().backward()
    torch.testing.assert_close(up.feats, ref, **TOL)
    torch.testing.assert_close(conv.weight.grad, w.grad, **TOL)
    torch.testing.assert_close(conv.bias.grad, bias.grad, **TOL)
    torch.testing.assert_close(coarse.feats.grad, at_sites(cd.grad, coarse.coords), **TOL)


def test_group_norm_is_per_image_group_norm_over_active_sites():
    torch.manual_seed(3)
    x = sparse_images(2, 9, 11, channels=6, seed=3)
    st = SparseTensor.from_dense(x)
    norm = SparseGroupNorm(6, groups=4)  # lowered to 3 groups
    nn.init.normal_(norm.weight)
    nn.init.normal_(norm.bias)
    assert norm.num_groups == 3
    out = norm(st).feats
    dense_gn = nn.GroupNorm(3, 6)
    dense_gn.load_state_dict(norm.state_dict())
    for b in range(2):
        rows = st.coords[:, 0] == b
        sites = st.feats[rows].T[None, :, :, None]  # the image's active pixels as a (1, C, n, 1) image
        torch.testing.assert_close(out[rows], dense_gn(sites)[0, :, :, 0].T, **TOL)


def test_batch_norm_is_over_all_active_sites_and_converts_for_ddp():
    torch.manual_seed(4)
    st = SparseTensor.from_dense(sparse_images(2, 9, 11, channels=5, seed=4))
    norm = SparseBatchNorm(5)
    ref = F.batch_norm(st.feats, None, None, training=True)
    torch.testing.assert_close(norm(st).feats, ref, **TOL)
    converted = convert_batchnorm(nn.Sequential(norm), "cpu")
    assert isinstance(converted[0].bn, CrossProcessBatchNorm2d)  # synchronised in a process group
    torch.testing.assert_close(converted[0](st).feats, ref, **TOL)
    one = SparseTensor.from_coords(torch.tensor([[0, 1, 1]]), torch.ones(1, 5), (4, 4), 1)
    out = norm(one).feats  # one site in a training batch: running statistics, not updated
    assert torch.isfinite(out).all() and torch.isfinite(norm.bn.running_var).all()


# --- (f) neighbour maps by hand


def test_neighbour_maps_by_hand():
    # image 0 (3 x 4): sites (0,0) (0,1) (1,1) (1,3) (2,0) (2,3); image 1: (0,0)
    x = torch.zeros(2, 1, 3, 4)
    for b, r, c in [(0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 3), (0, 2, 0), (0, 2, 3), (1, 0, 0)]:
        x[b, 0, r, c] = 1.0
    g = SparseTensor.from_dense(x).geometry
    n = 7
    assert g.coords(0).is_contiguous() and g.coords(0).dtype == torch.int64
    expected = torch.tensor([
        # (dr, dc) = (-1,-1) (-1,0) (-1,1) (0,-1) (0,0) (0,1) (1,-1) (1,0) (1,1)
        [n, n, n, n, 0, 1, n, n, 2],  # (0,0,0)
        [n, n, n, 0, 1, n, n, 2, n],  # (0,0,1)
        [0, 1, n, n, 2, n, 4, n, n],  # (0,1,1)
        [n, n, n, n, 3, n, n, 5, n],  # (0,1,3): (1,4) is not (2,0)
        [n, n, 2, n, 4, n, n, n, n],  # (0,2,0): (2,-1) is not (1,3)
        [n, 3, n, n, 5, n, n, n, n],  # (0,2,3): (2,4) is not image 1's (0,0)
        [n, n, n, n, 6, n, n, n, n],  # (1,0,0)
    ])
    assert torch.equal(g.submanifold_map(0, 3), expected)
    assert g.submanifold_map(0, 3) is g.submanifold_map(0, 3)  # cached
    down = g.down_map(0)
    # coarse 2 x 2: (0,0,0) <- 0 1 _ 2; (0,0,1) <- _ _ _ 3; (0,1,0) <- 4 _ _ _; (0,1,1) <- _ 5 _ _; (1,0,0) <- 6
    assert torch.equal(g.coords(1), torch.tensor([[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1], [1, 0, 0]]))
    assert g.shape(1) == (2, 2)
    assert torch.equal(down, torch.tensor([[0, 1, n, 2], [n, n, n, 3], [4, n, n, n], [n, 5, n, n], [6, n, n, n]]))
    assert torch.equal(g.up_index(0), torch.tensor([0, 1, 3, 7, 8, 13, 16]))
    assert torch.equal(g.submanifold_map(1, 3)[0], torch.tensor([5, 5, 5, 5, 0, 1, 5, 2, 3]))


def test_from_coords_checks_and_empty_batches():
    with pytest.raises(ValueError, match="outside batch 1 x shape"):
        SparseTensor.from_coords(torch.tensor([[0, 4, 0]]), torch.ones(1, 1), (4, 4), 1)
    with pytest.raises(ValueError, match="more than once"):
        SparseTensor.from_coords(torch.tensor([[0, 1, 2], [0, 1, 2]]), torch.ones(2, 1), (4, 4), 1)
    with pytest.raises(ValueError, match=r"integer \(N, 3\)"):
        SparseTensor.from_coords(torch.zeros(2, 3), torch.ones(2, 1), (4, 4), 1)
    torch.manual_seed(5)
    model = SparseUResNet(tiny())
    out = model(torch.zeros(2, 1, 10, 12))  # nothing active: all background, still differentiable
    assert torch.equal(out, torch.tensor([BACKGROUND_LOGIT, 0.0, 0.0])[None, :, None, None].expand(2, 3, 10, 12))
    out.sum().backward()


# --- (g) coordinates in any order and memory layout


def test_non_contiguous_shuffled_coords_give_the_dense_results():
    torch.manual_seed(6)
    x = sparse_images(2, 14, 18, seed=6) * 50
    model = SparseUResNet(tiny(norm="group")).eval()
    with torch.no_grad():
        dense_logits = model(x)
    ref = SparseTensor.from_dense(x)
    perm = torch.randperm(ref.coords.shape[0])
    # an int32, column-major (non-contiguous) view in shuffled order
    coords = ref.coords[perm].to(torch.int32).T.contiguous().T
    assert not coords.is_contiguous()
    st = SparseTensor.from_coords(coords, ref.feats[perm], (14, 18), 2)
    assert st.coords.is_contiguous() and st.coords.dtype == torch.int64
    with torch.no_grad():
        logits = model.forward_sparse(st)
    torch.testing.assert_close(logits, at_sites(dense_logits, st.coords), **TOL)


# --- (d) batching: every image gets what it gets alone


@pytest.mark.parametrize("norm", ["group", "batch"])
def test_batch_gives_each_image_its_own_result(norm):
    torch.manual_seed(7)
    model = SparseUResNet(tiny(norm=norm))
    a = sparse_images(1, 20, 24, frac=0.05, seed=7) * 40
    b = sparse_images(1, 20, 24, frac=0.3, seed=8) * 40
    assert (a > 0).sum() != (b > 0).sum()
    if norm == "batch":
        model(torch.cat([a, b]))  # some running statistics, then eval mode
        model.eval()
    both = model(torch.cat([a, b]))  # group norm: training mode
    torch.testing.assert_close(both[:1], model(a), **TOL)
    torch.testing.assert_close(both[1:], model(b), **TOL)


# --- (e) the network


def test_network_dense_interface_and_background():
    torch.manual_seed(8)
    model = build_model(tiny())
    assert isinstance(model, SparseUResNet)
    x = sparse_images(2, 21, 30, frac=0.1, seed=9) * 60  # sides not multiples of 2**depth
    out = model(x)
    assert out.shape == (2, 3, 21, 30)
    inactive = x[:, 0] == 0
    background = out.permute(0, 2, 3, 1)[inactive]
    assert torch.equal(background, torch.tensor([BACKGROUND_LOGIT, 0.0, 0.0]).expand_as(background))
    active = out.permute(0, 2, 3, 1)[~inactive]
    assert active.abs().max() < 1.0  # near-uniform start, as the dense net
    probs = Predictor.from_module(model, threshold=0.0).probabilities(x[0, 0])  # pads and crops back
    assert probs.shape == (1, 3, 21, 30) and probs[0, 0][x[0, 0] == 0].min() > 1 - 1e-6
    with pytest.raises(ValueError, match=r"expected images \(B, 1, H, W\)"):
        model(x[:, 0])


def test_network_overfits_one_image_with_the_training_loss():
    torch.manual_seed(9)
    model = SparseUResNet(tiny(norm="group", input_scale=0.02))
    x = sparse_images(1, 16, 16, frac=0.15, seed=10) * 60
    label = torch.zeros(1, 16, 16, dtype=torch.long)
    active = x[:, 0] > 0
    label[active] = torch.randint(1, 3, (int(active.sum()),))
    w = weight_maps("class", x, label)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = per_image_loss(model(x), label, w).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], losses


def test_configs_presets_and_unsupported_options():
    cfg = load_preset("model", "sparse-cpu")
    assert cfg.sparse and cfg.filters == load_preset("model", "cpu").filters
    for kw, what in [({"stem_pool": True}, "stem_pool"), ({"upsample_kernel": 4}, "upsample_kernel 4"),
                     ({"head_kernel": 3}, "head_kernel 3"), ({"upsample_grouped": True, "filters": (4, 8)},
                                                             "upsample_grouped")]:
        with pytest.raises(ValueError, match=f"sparse network does not support {what}"):
            tiny(**kw)
    with pytest.raises(ValueError, match="sparse_backend must be"):
        tiny(sparse_backend="cuda")
    with pytest.raises(ValueError, match="is dense"):
        SparseUResNet(tiny(sparse=False))
    # the skeleton picks the layer backend from the config: a sparse config never gives a dense network
    assert UResNet(tiny()).layers.name == "sparse"
    for kw in ({"head_filters": (6,), "encoder_blocks": 2}, {"decoder_blocks": 0, "upsample_bn": False}):
        assert SparseUResNet(tiny(**kw))(sparse_images(1, 8, 8) * 30).shape == (1, 3, 8, 8)


def test_checkpoint_round_trip_and_encoder_transfer(tmp_path):
    torch.manual_seed(10)
    model = SparseUResNet(tiny())
    path = tmp_path / "m.pt"
    save_atomic({"format": FORMAT, "task": "segment", "model": model.state_dict(), "model_config": to_yaml(tiny()),
                 "provenance": {"larseg_version": __version__}}, path)
    loaded = load_network(path)
    assert isinstance(loaded, SparseUResNet) and not loaded.training and loaded.config == tiny()
    x = sparse_images(2, 12, 12) * 40
    torch.testing.assert_close(loaded(x), model.eval()(x))

    clf = build_classifier(tiny())
    assert isinstance(clf, SparseEncoderClassifier) and clf(x).shape == (2, 5)
    assert clf(torch.zeros(1, 1, 8, 8)).shape == (1, 5)
    path = tmp_path / "clf.pt"
    save_atomic({"format": FORMAT, "task": "classify", "model": clf.state_dict(), "model_config": to_yaml(tiny()),
                 "provenance": {"larseg_version": __version__}}, path)
    net = SparseUResNet(tiny())
    load_encoder_weights(net, path)
    for (k, a), (k2, b) in zip(net.encoder.state_dict().items(), clf.encoder.state_dict().items()):
        assert k == k2 and torch.equal(a, b)


def test_resblock_projection_and_bf16_autocast():
    assert ResBlock(SPARSE, 8, 8).shortcut is None and ResBlock(SPARSE, 8, 16).shortcut is not None
    torch.manual_seed(11)
    model = SparseUResNet(tiny(norm="group")).eval()
    x = sparse_images(1, 12, 12) * 40
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        low = model(x)
    torch.testing.assert_close(low.float(), model(x), atol=0.05, rtol=0.05)


# --- the spconv backend runs the same weights


def test_spconv_backend_matches_torch():
    pytest.importorskip("spconv.pytorch")
    torch.manual_seed(12)
    x = sparse_images(2, 13, 17, channels=3, seed=12) * 20

    def run(backend: str, layers: tuple[nn.Module, ...]):
        st = leaf(SparseTensor.from_dense(x, backend))
        a = layers[0](st)
        down = layers[1](a)
        up = layers[2](layers[3](down))
        out = torch.cat([a.feats, up.feats], dim=1)
        grad = torch.linspace(-1, 1, out.numel()).view_as(out)
        (out * grad).sum().backward()
        coarse = {tuple(c) for c in down.coords.tolist()}
        return out, st.feats.grad, [p.grad.clone() for layer in layers for p in layer.parameters()], coarse

    layers = (SubMConv2d(3, 4), SparseDownConv2d(4, 6), SparseUpConv2d(6, 4, bias=True), SubMConv2d(6, 6, 5))
    ref = run("torch", layers)
    for layer in layers:
        layer.zero_grad()
    got = run("spconv", layers)
    close = {"atol": 1e-4, "rtol": 1e-4}  # sums over many sites, in another order
    for a, b in zip([*got[:2], *got[2]], [*ref[:2], *ref[2]]):
        torch.testing.assert_close(a, b, **close)
    assert got[3] == ref[3]  # the same coarse sites (in spconv's own order)

    model = SparseUResNet(tiny(norm="group"))
    ref = model(x[:, :1])
    model.backend = "spconv"
    torch.testing.assert_close(model(x[:, :1]), ref, **close)

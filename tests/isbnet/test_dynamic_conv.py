"""`ISBNet.dynamic_conv` in blocks: long rows (voxels as superpoints) tiled on the CPU give the
whole-row logits to float rounding; rows of superpoints are computed whole, as before."""

from __future__ import annotations

import torch

from isbnet_trt.isbnet import model as model_module
from isbnet_trt.isbnet.config import load_config
from isbnet_trt.isbnet.demo import demo_config_path
from isbnet_trt.isbnet.model import ISBNet


def _inputs(model: ISBNet, q: int, s: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    n_params = sum(model.weight_nums) + sum(model.bias_nums)
    return (
        torch.randn(q, n_params, generator=g) * 0.2,
        torch.rand(q, 3, generator=g) * 6,
        torch.rand(q, 6, generator=g) * 2,
        torch.randn(s, model.cfg.mask_dim_out, generator=g),
        torch.rand(s, 3, generator=g) * 6,
        torch.rand(s, 6, generator=g) * 2,
    )


def test_tiled_long_rows_equal_whole_rows(monkeypatch):
    model = ISBNet(load_config(demo_config_path())).eval()
    args = _inputs(model, q=40, s=20_000)
    with torch.no_grad():
        tiled = model.dynamic_conv(*args)
        assert len(model_module.dynamic_conv_blocks(40, 20_000, model.cfg.mask_dim_out)[1]) > 1
        monkeypatch.setattr(model_module, "DYCO_WHOLE_ROWS", 10**9)
        whole = model.dynamic_conv(*args)
    assert tiled.shape == whole.shape == (40, 20_000)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5 * float(whole.abs().max()))
    assert ((tiled >= 0) == (whole >= 0)).float().mean() > 0.9999  # the mask decision


def test_rows_of_superpoints_are_one_block():
    chunk, tiles = model_module.dynamic_conv_blocks(192, 5000, 32)
    assert tiles == [(0, 5000)] and chunk >= 1

"""Random but non-degenerate ISBNet weights for any config (test helper, not in the package).

`calibrated_model(cfg, points, superpoints)`: default-initialised weights, then (1) the semantic
head's last bias favours one instance class enough that many superpoints pass the foreground
threshold, (2) every BatchNorm's running statistics are set, in one inference over the given
scene, to the statistics of its first input batch (layer by layer, so each BN sees already
calibrated inputs): activations keep unit scale through the U-Net and the heads, and every
stage sees varied, finite values. BNs whose first batch has fewer than 32 values per channel
keep the defaults.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from isbnet_trt.isbnet.checkpoint import build_model
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.inference import forward_test
from isbnet_trt.isbnet.model import ISBNet
from isbnet_trt.isbnet.preprocess import prepare_scene

_MIN_BATCH = 32  # values per channel needed to calibrate a BN (deep U-Net levels may have fewer)


def _calibrate(bn: nn.modules.batchnorm._BatchNorm, inputs: tuple[Tensor, ...]) -> None:
    if getattr(bn, "_calibrated", False):
        return
    x = inputs[0].transpose(0, 1).reshape(bn.num_features, -1)  # channels first
    if x.shape[1] >= _MIN_BATCH:
        bn.running_mean.copy_(x.mean(1))
        # A floor on the variance: channels that barely vary must not be blown up (they would
        # amplify float rounding from stage to stage, as no trained network does).
        bn.running_var.copy_(x.var(1, unbiased=False) + 1e-2)
    bn._calibrated = True


def calibrated_model(
    cfg: ModelConfig, points: np.ndarray, superpoints: np.ndarray | None, seed: int = 0
) -> ISBNet:
    torch.manual_seed(seed)
    model = build_model(cfg)
    last = model.semantic_linear[-1]
    with torch.no_grad():
        last.weight.mul_(0.5)
        last.bias.zero_()
        # p(class) >= filter_bg_thresh needs logit - others ~ log(thresh * (C - 1) / (1 - thresh)).
        t = cfg.filter_bg_thresh
        last.bias[cfg.label_shift] = math.log(t * (cfg.semantic_classes - 1) / (1 - t))
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    hooks = [bn.register_forward_pre_hook(_calibrate) for bn in bns]
    try:
        with torch.no_grad():
            forward_test(model, prepare_scene(points, superpoints, cfg), cfg)
    finally:
        for h in hooks:
            h.remove()
        for bn in bns:
            bn.__dict__.pop("_calibrated", None)
    return model.eval()

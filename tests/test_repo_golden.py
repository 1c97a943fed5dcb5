"""Every CPU backend against the repository's own golden case (`tests/data/`, see its README):
a stored 12k-point room and the PyTorch reference's stages on it with the bundled demo weights.
Runs from a plain clone (no `../shared`).

Discrete outputs (foreground mask, FPS indices, candidates, foreground queries, mask signs)
must be identical; float stages agree within a scale-relative tolerance (the largest absolute
difference over the largest magnitude of the stored stage): 1e-5 for the torch reference
itself (other CPUs and BLAS builds reorder sums), 1e-4 for the other backends (the project's
stage-parity tolerance). Final instances are compared as sets, as the official golden tests do.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.compare import match_instances
from isbnet_trt.isbnet.demo import demo_config_path, demo_weights_path
from isbnet_trt.isbnet.inference import forward_test
from isbnet_trt.isbnet.postprocess import Instances
from isbnet_trt.isbnet.preprocess import prepare_scene
from isbnet_trt.plugins import cpu as cpu_kernels
from isbnet_trt.plugins import onnxruntime_ops

sys.path.insert(0, str(Path(__file__).parent / "export"))
from _parity import rel_error  # noqa: E402

DATA = Path(__file__).parent / "data"
TORCH_RTOL = 1e-5
BACKEND_RTOL = 1e-4
SCORE_TOL = 1e-5


class Golden:
    """The stored case: inputs, reference arrays (masks unpacked) and meta."""

    def __init__(self) -> None:
        with np.load(DATA / "repo_golden_room.npz") as z:
            self.points, self.superpoints = z["points"], z["superpoints"].astype(np.int64)
        with np.load(DATA / "repo_golden_torch.npz") as z:
            self.ref = dict(z)
        self.meta = json.loads(str(self.ref.pop("meta")))
        self.stride = self.meta["stride"]

    def bits(self, key: str, n: int) -> np.ndarray:
        return np.unpackbits(self.ref[key], axis=-1, count=n).astype(bool)

    def instances(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.ref["label_ids"], self.ref["scores"], self.bits("masks", self.meta["n_points"])


@pytest.fixture(scope="session")
def golden() -> Golden:
    return Golden()


@pytest.fixture(scope="session")
def demo_model():
    return load_model(demo_weights_path(), demo_config_path())


@pytest.fixture(scope="session")
def scene(golden, demo_model):
    return prepare_scene(golden.points, golden.superpoints, demo_model.cfg)


@pytest.fixture(autouse=True)
def _torch_one_thread(one_torch_thread: None) -> None:
    """As the reference was made (results do not depend on it; tiny ops are faster on one)."""


def run(stages, scene, cfg) -> tuple[dict, Instances]:  # noqa: ANN001
    trace: dict = {}
    with torch.no_grad():
        inst = forward_test(stages, scene, cfg, trace=trace)
    return trace, inst


def check_instances(inst: Instances, golden: Golden, rtol: float) -> None:
    ref = golden.ref
    report = match_instances((inst.label_ids, inst.scores, inst.masks), golden.instances())
    assert len(inst) == golden.meta["n_instances"] and report.unmatched == 0, report
    assert report.min_iou == 1.0 and report.max_score_diff < SCORE_TOL, report
    mine, theirs = zip(*report.pairs, strict=True)
    assert rel_error(inst.boxes[list(mine)], ref["boxes"][list(theirs)]) < rtol


def check_stages(trace: dict, inst: Instances, golden: Golden, rtol: float) -> dict[str, float]:
    """Assert every stored stage; returns the float stages' scale-relative errors."""
    ref, meta, s = golden.ref, golden.meta, golden.stride
    errors: dict[str, float] = {}

    def close(name: str, actual, expected: np.ndarray) -> None:  # noqa: ANN001
        errors[name] = rel_error(actual, expected)

    bb = trace["backbone"]
    n_voxels, n_spp = meta["n_voxels"], meta["n_superpoints"]
    assert bb.object_mask.shape == (n_voxels,) and bb.mask_features.shape[0] == n_spp
    assert np.array_equal(bb.object_mask.numpy(), golden.bits("object_mask", n_voxels)), "foreground voxels"
    for name in ("semantic_scores", "corners_offset", "feats"):
        close(name, getattr(bb, name)[::s], ref[name])
    for name in ("spp_coords", "spp_boxes", "mask_features"):
        close(name, getattr(bb, name), ref[name])
    pa1 = trace["aggregator"]
    assert np.array_equal(pa1.inds.numpy(), ref["pa1_inds"]), "aggregator-1 FPS indices"
    close("pa1_boxes", pa1.boxes[0], ref["pa1_boxes"])
    rounds = sorted(k for k in trace if k.startswith("it"))
    assert len(rounds) == len(meta["rounds"])
    for it, counts in zip(rounds, meta["rounds"], strict=True):
        r, out = trace[it], trace[it]["out"]
        n_pa1 = pa1.inds.shape[0]
        assert len(r["cand_idxs"]) == counts["n_candidates"] and len(out.cand_inds) == counts["n_sample"]
        cand = np.flatnonzero(golden.bits(f"{it}_cand", n_pa1))
        assert np.array_equal(r["cand_idxs"].numpy(), cand), f"{it}: candidates"
        assert np.array_equal(out.cand_inds.numpy(), ref[f"{it}_fps_inds"]), f"{it}: FPS indices"
        assert np.array_equal(out.fg.numpy(), golden.bits(f"{it}_fg", len(out.fg))), (
            f"{it}: foreground queries"
        )
        assert int(out.fg.sum()) == counts["n_foreground"]
        logits = out.mask_logits[out.fg]
        positive = golden.bits(f"{it}_mask_positive", n_spp)
        assert np.array_equal((logits >= 0).numpy(), positive), f"{it}: mask signs"
        close(f"{it}.cls_logits", out.cls_logits, ref[f"{it}_cls_logits"])
        close(f"{it}.conf_logits", out.conf_logits, ref[f"{it}_conf_logits"])
        close(f"{it}.box_preds", out.box_preds[out.fg], ref[f"{it}_box_preds"])
        close(f"{it}.mask_logits", logits[:, ::s], ref[f"{it}_mask_logits"])
    worst = max(errors, key=errors.get)
    assert errors[worst] < rtol, f"{worst}: scale-relative error {errors[worst]:.2e} (all: {errors})"
    check_instances(inst, golden, rtol)
    return errors


def test_the_case_is_what_its_readme_says(golden):
    meta = golden.meta
    assert golden.points.shape == (meta["n_points"], 6) == (12_000, 6) and golden.points.dtype == np.float32
    assert meta["room"]["seed"] == 5 and meta["n_instances"] == len(golden.ref["scores"]) > 0
    sizes = sum(p.stat().st_size for p in DATA.glob("repo_golden_*.npz"))
    assert sizes < 1_000_000  # a plain clone stays small
    assert min(meta["margins"].values()) > 1e-4  # every discrete decision well clear of float noise


def test_torch_reference(golden, demo_model, scene):
    """The reference model itself: a change of the model's code or weights shows here."""
    trace, inst = run(demo_model, scene, demo_model.cfg)
    check_stages(trace, inst, golden, TORCH_RTOL)
    pred = trace["backbone"].semantic_scores.argmax(1).numpy()
    assert np.array_equal(pred, golden.ref["semantic_pred"])


def test_torch_pipeline(golden, demo_model):
    """`runtime.Pipeline` on the torch backend: scene preparation with the numba kernel maps
    (where numba is installed) and the input-frame handling, end to end."""
    from isbnet_trt.runtime.pipeline import Pipeline

    pipe = Pipeline(demo_model, demo_model.cfg, "torch")
    check_instances(pipe(golden.points, golden.superpoints).instances, golden, TORCH_RTOL)


@pytest.mark.skipif(not cpu_kernels.available(), reason="numba not installed")
def test_numba_geometry(golden, scene):
    """FPS and ball query on the numba CPU kernels (`benchmarks.torch_numba`)."""
    from isbnet_trt.benchmarks.torch_numba import NumbaGeometry

    model = load_model(demo_weights_path(), demo_config_path())
    model.geometry_ops = NumbaGeometry()
    check_stages(*run(model, scene, model.cfg), golden, TORCH_RTOL)


def test_spconv_unet(golden, demo_model, scene):
    """The U-Net on spconv 2.x (`benchmarks.torch_spconv`)."""
    from isbnet_trt.benchmarks.torch_spconv import SpconvStages, spconv_available

    if not spconv_available():
        pytest.skip("spconv not installed")
    check_stages(*run(SpconvStages(demo_model), scene, demo_model.cfg), golden, BACKEND_RTOL)


def test_device_stages_on_the_cpu(golden, demo_model, scene):
    """`runtime.backends.torch_cuda.DeviceStages` on the CPU: the GPU path's wiring (kernel convs on
    uploaded kernel maps, geometry ops, placement) running the reference ops."""
    from isbnet_trt.runtime.backends.torch_cuda import DeviceStages

    check_stages(*run(DeviceStages(demo_model, "cpu"), scene, demo_model.cfg), golden, TORCH_RTOL)


@pytest.fixture(scope="module")
def demo_export(onnx_export):
    return onnx_export(demo_weights_path(), demo_config_path())


@pytest.mark.parametrize(
    "kernels",
    [
        pytest.param(
            "fast",
            marks=pytest.mark.skipif(
                not onnxruntime_ops.available(), reason="numba / onnxruntime-extensions absent"
            ),
        ),
        "bodies",
    ],
)
def test_onnxruntime(golden, demo_export, scene, kernels):
    """The exported ONNX stages under onnxruntime: `isbnet::` ops on the numba kernels, or their
    standard-op function bodies."""
    from isbnet_trt.runtime.backends.onnxruntime import OnnxRuntimeStages

    stages = OnnxRuntimeStages(demo_export, kernels=kernels)
    check_stages(*run(stages, scene, stages.cfg), golden, BACKEND_RTOL)

"""`runtime.backends.torch_cuda.DeviceStages`: the GPU wiring (kernel convs on uploaded kernel maps,
geometry ops, device placement) checked on the CPU, where it runs the reference ops and must
reproduce the reference model exactly. The GPU itself is checked by benchmarks/gpu_check.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.inference import forward_test
from isbnet_trt.isbnet.preprocess import prepare_scene
from isbnet_trt.isbnet.sparse_conv import SparseConv3d, SparseInverseConv3d, SubMConv3d
from isbnet_trt.plugins.kernel_maps import torch_maps as torch_kernel_maps
from isbnet_trt.runtime.backends.torch_cuda import DeviceStages, upload_maps


@pytest.fixture(scope="module")
def model(golden_ckpt):
    return load_model(*golden_ckpt)


@pytest.fixture(scope="module")
def scene(model, room):
    return prepare_scene(room.points, room.superpoints, model.cfg)


def _conv_types(m):
    return [type(x) for x in m.modules() if isinstance(x, (SubMConv3d, SparseConv3d, SparseInverseConv3d))]


def test_every_sparse_conv_is_swapped_and_the_model_is_left_alone(model):
    before = _conv_types(model)
    stages = DeviceStages(model, "cpu")
    assert stages.n_kernel_convs == len(before) > 10
    assert _conv_types(model) == before  # the caller's model is untouched
    assert all(t.__name__.startswith("_Kernel") for t in _conv_types(stages.model))
    assert stages.model.state_dict().keys() == model.state_dict().keys()
    convs = [m for m in stages.model.modules() if type(m).__name__.startswith("_Kernel")]
    assert {m.conv_algorithm for m in convs} == {"tile"}  # the verified kernel by default
    split = DeviceStages(model, "cpu", conv_algorithm="auto").model.modules()
    assert {m.conv_algorithm for m in split if type(m).__name__.startswith("_Kernel")} == {"auto"}
    with pytest.raises(ValueError, match="conv_algorithm"):
        DeviceStages(model, "cpu", conv_algorithm="gemm")


def test_uploaded_maps_know_their_largest_row(scene):
    levels = upload_maps(scene.maps, "cpu")
    for lm, lev in zip(scene.maps, levels, strict=True):
        assert lev.subm.table.dtype == torch.int32
        assert lev.subm.min_inputs == int(lm.subm.max()) + 1
        assert (lev.down is None) == (lm.down is None)


@pytest.mark.parametrize("kernels", [True, False])
def test_backbone_equals_the_reference_model(model, scene, kernels):
    stages = DeviceStages(model, "cpu", kernels=kernels)
    args = (scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps, scene.maps)
    with torch.no_grad():
        ref = model.backbone(*args)
    got = stages.backbone(*args)
    for name in ("feats", "semantic_scores", "box_preds", "object_mask", "spp_coords", "mask_features"):
        assert torch.equal(getattr(got, name), getattr(ref, name)), name


def test_whole_scene_equals_the_reference_model(model, scene):
    with torch.no_grad():
        ref = forward_test(model, scene, model.cfg)
    got = forward_test(DeviceStages(model, "cpu"), scene, model.cfg)
    assert len(ref) > 0
    assert np.array_equal(got.label_ids, ref.label_ids)
    assert np.array_equal(got.scores, ref.scores)
    assert np.array_equal(got.masks, ref.masks)


def test_backbone_takes_maps_built_by_torch(model, scene):
    stages = DeviceStages(model, "cpu")
    args = (scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps)
    coords = torch.from_numpy(scene.maps[0].coords)
    torch_maps = torch_kernel_maps.build_unet_maps(coords, len(scene.maps), scene.maps[0].spatial_shape)
    levels = upload_maps(torch_maps, "cpu")
    assert [lv.subm.min_inputs for lv in levels] == [m.num_voxels for m in scene.maps]
    a, b = stages.backbone(*args, scene.maps), stages.backbone(*args, torch_maps)
    assert torch.equal(a.feats, b.feats) and torch.equal(a.mask_features, b.mask_features)


def test_pipeline_prepares_scenes_with_the_backends_preprocessor(model, room, monkeypatch):
    """`Pipeline` prepares scenes with the stages' `preprocessor` (on the GPU: voxels and maps
    built with PyTorch ops); here it runs on the CPU and must give the reference's instances."""
    from isbnet_trt.runtime.pipeline import Pipeline
    from isbnet_trt.runtime.torch_preprocess import TorchPreprocessor

    stages = DeviceStages(model, "cpu")
    assert stages.preprocessor is None  # off the GPU: NumPy preprocessing
    calls = []

    def prepare(*args):
        calls.append(len(args[0]))
        return TorchPreprocessor("cpu")(*args)

    monkeypatch.setattr(DeviceStages, "preprocessor", property(lambda self: prepare))
    got = Pipeline(stages, model.cfg, "torch-cuda")(room.points, room.superpoints).instances
    ref = Pipeline(model, model.cfg, "torch")(room.points, room.superpoints).instances
    assert calls == [len(room.points)] and len(ref) > 0
    assert np.array_equal(got.label_ids, ref.label_ids) and np.array_equal(got.masks, ref.masks)
    assert np.array_equal(got.scores, ref.scores)

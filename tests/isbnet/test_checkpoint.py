"""Official checkpoints: strict loading for all five official configs, clear refusals."""

from __future__ import annotations

import json

import pytest
import torch

from isbnet_trt.isbnet.checkpoint import (
    CheckpointError,
    build_model,
    load_model,
    matching_configs,
    read_state_dict,
    save_checkpoint,
)
from isbnet_trt.isbnet.config import ConfigError, load_config

CONFIGS = [
    "isbnet_scannetv2.yaml",
    "isbnet_lightweight_scannetv2.yaml",
    "isbnet_scannet200.yaml",
    "isbnet_s3dis_area5.yaml",
    "isbnet_stpls3d.yaml",
]


@pytest.fixture(scope="module")
def manifest(fixtures_dir):
    return json.loads((fixtures_dir / "official_state_dict_shapes.json").read_text())


def random_official_state_dict(shapes: dict[str, list[int]], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights laid out exactly as an official checkpoint (spconv weight layout)."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for k, shape in shapes.items():
        if k.endswith("num_batches_tracked"):
            sd[k] = torch.tensor(7)
        elif k.endswith("running_var"):
            sd[k] = torch.rand(shape, generator=g) + 0.5
        else:
            sd[k] = torch.randn(shape, generator=g)
    return sd


@pytest.mark.parametrize("name", CONFIGS)
def test_model_has_official_keys_and_shapes(fixtures_dir, manifest, name):
    cfg = load_config(fixtures_dir / "official_configs" / name)
    with torch.device("meta"):
        sd = build_model(cfg).state_dict()
    expected = {k: list(v) for k, v in manifest[name].items()}
    assert {k: list(v.shape) for k, v in sd.items()} == expected


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("prefix", ["", "module."])
def test_official_checkpoint_loads_strictly(tmp_path, fixtures_dir, manifest, name, prefix):
    sd = random_official_state_dict(manifest[name])
    path = tmp_path / "ckpt.pth"
    torch.save({"net": {prefix + k: v for k, v in sd.items()}, "epoch": 3, "optimizer": {}}, path)
    model = load_model(path, fixtures_dir / "official_configs" / name)
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in sd.items())
    assert not model.training


def test_config_is_recognised_from_the_weights(fixtures_dir, manifest):
    cfgs = [load_config(fixtures_dir / "official_configs" / n) for n in CONFIGS]
    for name in CONFIGS:
        sd = {k: torch.empty(v) for k, v in manifest[name].items()}
        assert [c.name for c in matching_configs(sd, cfgs)] == [name.removesuffix(".yaml")]


def test_mismatching_config_is_refused_naming_keys(tmp_path, fixtures_dir, manifest):
    sd = random_official_state_dict(manifest["isbnet_lightweight_scannetv2.yaml"])
    path = tmp_path / "light.pth"
    save_checkpoint(sd, path, epoch=0)
    with pytest.raises(
        CheckpointError, match=r"does not match config 'isbnet_scannetv2'.*shape of input_conv\.0\.weight"
    ):
        load_model(path, fixtures_dir / "official_configs" / "isbnet_scannetv2.yaml")


def test_missing_and_unexpected_keys_are_named(tmp_path, fixtures_dir, manifest):
    sd = random_official_state_dict(manifest["isbnet_lightweight_scannetv2.yaml"])
    del sd["mask_tower.3.bias"]
    sd["extra.weight"] = torch.zeros(2)
    cfg = load_config(fixtures_dir / "official_configs" / "isbnet_lightweight_scannetv2.yaml")
    with pytest.raises(
        CheckpointError, match=r"missing key mask_tower\.3\.bias.*unexpected key extra\.weight"
    ):
        build_model(cfg, sd)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "cannot read checkpoint"),
        (b"not a pickle at all", "cannot read checkpoint"),
    ],
)
def test_unreadable_checkpoints(tmp_path, content, message):
    path = tmp_path / "bad.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        read_state_dict(path)


def test_truncated_and_foreign_checkpoints(tmp_path, manifest):
    good = tmp_path / "good.pth"
    save_checkpoint(random_official_state_dict(manifest["isbnet_stpls3d.yaml"]), good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        read_state_dict(truncated)
    foreign = tmp_path / "foreign.pth"
    torch.save({"net": {"a": 1}}, foreign)
    with pytest.raises(CheckpointError, match="not an ISBNet checkpoint"):
        read_state_dict(foreign)
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        read_state_dict(tmp_path / "missing.pth")


def test_save_is_atomic_and_official_format(tmp_path, manifest):
    sd = random_official_state_dict(manifest["isbnet_stpls3d.yaml"])
    path = tmp_path / "out.pth"
    save_checkpoint(sd, path, epoch=5)
    obj = torch.load(path, weights_only=True)
    assert obj["epoch"] == 5 and set(obj["net"]) == set(sd)
    assert [p.name for p in tmp_path.iterdir()] == ["out.pth"]


def test_bad_configs(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("data: {}\n")
    with pytest.raises(ConfigError, match="no 'model' section"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")

"""Model configuration read from the official ISBNet YAML configs.

Only the fields that inference (and our training) needs are kept; every field keeps the
official name and default so that a config round-trips to the official meaning.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from isbnet_trt.errors import IsbnetError
from isbnet_trt.isbnet.scannet200 import SCANNET200_INSTANCE_CLASSES

SCANNET_CLASSES = (
    "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture", "counter",
    "desk", "curtain", "refrigerator", "shower curtain", "toilet", "sink", "bathtub", "otherfurniture",
)  # fmt: skip
S3DIS_CLASSES = (
    "ceiling", "floor", "wall", "beam", "column", "window", "door", "chair", "table", "bookcase",
    "sofa", "board", "clutter",
)  # fmt: skip
STPLS3D_CLASSES = (
    "building", "low vegetation", "med. vegetation", "high vegetation", "vehicle", "truck", "aircraft",
    "militaryVehicle", "bike", "motorcycle", "light pole", "street sign", "clutter", "fence",
)  # fmt: skip
# ScanNet benchmark label ids of the 20 semantic classes (for the benchmark's text format).
SCANNET_BENCHMARK_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)

DATASETS = ("scannetv2", "scannet200", "s3dis", "stpls3d")


class ConfigError(IsbnetError, ValueError):
    """The config file is unreadable or is not an ISBNet model config."""


@dataclass(frozen=True)
class InstanceHeadConfig:
    dec_dim: int = 128
    n_sample_pa1: int = 2048
    n_queries: int = 256
    radius_scale: float = 1.0
    radius: float = 0.4
    neighbor: int = 32
    num_dyco_layer: int = 3


@dataclass(frozen=True)
class TestConfig:
    x4_split: bool = False
    logit_thresh: float = 0.0
    score_thresh: float = 0.2
    npoint_thresh: int = 100
    type_nms: str = "matrix"
    topk: int = 100
    nms_threshold: float = 0.2


@dataclass(frozen=True)
class ModelConfig:
    """What the official `ISBNet(**cfg.model, dataset_name=cfg.data.train.type)` receives,
    plus the test-time voxelisation of `cfg.data.test.voxel_cfg`."""

    channels: int = 32
    num_blocks: int = 7
    semantic_classes: int = 20
    instance_classes: int = 18
    sem2ins_classes: tuple[int, ...] = ()
    semantic_only: bool = False
    with_coords: bool = True
    ignore_label: int = -100
    voxel_scale: int = 50
    use_spp_pool: bool = True
    filter_bg_thresh: float = 0.1
    iterative_sampling: bool = True
    mask_dim_out: int = 32
    instance_head: InstanceHeadConfig = field(default_factory=InstanceHeadConfig)
    test: TestConfig = field(default_factory=TestConfig)
    dataset_name: str = "scannetv2"
    # data.test.voxel_cfg: points are scaled by `data_scale` before flooring to voxel coords,
    # and the sparse grid is at least `min_spatial_shape` along each axis.
    data_scale: float = 50.0
    min_spatial_shape: int = 128
    name: str = "isbnet"

    @property
    def label_shift(self) -> int:
        """Semantic classes before the first instance class (wall, floor for ScanNet)."""
        return self.semantic_classes - self.instance_classes

    @property
    def in_channels(self) -> int:
        return 6 if self.with_coords else 3

    @property
    def label_id_offset(self) -> int:
        """`label_id = class index + offset` as in the official `get_instance`."""
        return 3 if self.dataset_name == "s3dis" else 1

    @property
    def semantic_class_names(self) -> tuple[str, ...]:
        """Names of the semantic classes, in class-index order (generic names if unknown)."""
        known = {
            ("scannetv2", 20): ("wall", "floor", *SCANNET_CLASSES),
            ("scannet200", 200): ("wall", "floor", *SCANNET200_INSTANCE_CLASSES),
            ("s3dis", 13): S3DIS_CLASSES,
            ("stpls3d", 15): ("ground", *STPLS3D_CLASSES),
        }
        names = known.get((self.dataset_name, self.semantic_classes))
        return names or tuple(f"class_{i}" for i in range(self.semantic_classes))

    @property
    def n_sample_rounds(self) -> tuple[int, ...]:
        """Queries per iterative-sampling round (official `n_sample_arr`)."""
        return (192, 128, 64) if self.iterative_sampling else (256,)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        d = dict(d)
        d["instance_head"] = InstanceHeadConfig(**d.get("instance_head", {}))
        d["test"] = TestConfig(**d.get("test", {}))
        d["sem2ins_classes"] = tuple(d.get("sem2ins_classes", ()))
        return cls(**d)


def _pick(section: dict[str, Any], cls: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in section.items() if k in names}


def config_from_official(cfg: dict[str, Any], name: str = "isbnet") -> ModelConfig:
    """Build a `ModelConfig` from the parsed official YAML (a dict with `model` and `data`)."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get("model"), dict):
        raise ConfigError("not an ISBNet config: no 'model' section")
    model = cfg["model"]
    missing = [k for k in ("channels", "semantic_classes", "instance_classes") if k not in model]
    if missing:
        raise ConfigError(f"not an ISBNet config: 'model' lacks {', '.join(missing)}")
    data = cfg.get("data") or {}
    dataset = (data.get("train") or {}).get("type") or (data.get("test") or {}).get("type") or "scannetv2"
    if dataset not in DATASETS:
        raise ConfigError(f"unsupported dataset type {dataset!r} (supported: {', '.join(DATASETS)})")
    voxel_cfg = (data.get("test") or {}).get("voxel_cfg") or {}
    fields = _pick(model, ModelConfig)
    for dropped in ("instance_head", "test", "sem2ins_classes"):
        fields.pop(dropped, None)
    return ModelConfig(
        **fields,
        sem2ins_classes=tuple(model.get("sem2ins_classes") or ()),
        instance_head=InstanceHeadConfig(**_pick(model.get("instance_head_cfg") or {}, InstanceHeadConfig)),
        test=TestConfig(**_pick(model.get("test_cfg") or {}, TestConfig)),
        dataset_name=dataset,
        data_scale=float(voxel_cfg.get("scale", model.get("voxel_scale", 50))),
        min_spatial_shape=int((voxel_cfg.get("spatial_shape") or [128])[0]),
        name=name,
    )


def load_config(path: str | Path) -> ModelConfig:
    """Read an official ISBNet YAML config (e.g. `isbnet_scannetv2.yaml`)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror or e}") from None
    try:
        cfg = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"config {path} is not valid YAML: {e}") from None
    return config_from_official(cfg, name=path.stem)

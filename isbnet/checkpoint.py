"""Official ISBNet checkpoints: strict loading, config matching, saving in the official format.

An official checkpoint is `torch.save({"net": state_dict, "optimizer": ..., "epoch": ...})`,
its keys sometimes prefixed with `module.` (saved from DistributedDataParallel). Sparse-conv
weights are in spconv 2's layout `[C_out, kx, ky, kz, C_in]`, which our modules keep as is.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import Tensor

from isbnet_trt.errors import IsbnetError
from isbnet_trt.files import atomic_path
from isbnet_trt.isbnet.config import ModelConfig, load_config
from isbnet_trt.isbnet.model import ISBNet


class CheckpointError(IsbnetError, ValueError):
    """The checkpoint is unreadable, or does not match the model config."""


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Read the model weights of an official checkpoint (`{"net": ...}` or a bare state dict),
    without a `module.` prefix. Only tensors and plain containers are unpickled."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    with open(path, "rb") as f:
        head = f.read(4)
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):  # torch.save: zip, or a pickle
        raise CheckpointError(
            f"cannot read checkpoint {path}: not a PyTorch file (neither a torch.save zip nor a pickle)"
        )
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for truncated / foreign files
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise CheckpointError(f"cannot read checkpoint {path}: {reason}") from None
    sd = obj.get("net", obj) if isinstance(obj, Mapping) else None
    if not isinstance(sd, Mapping) or not all(isinstance(v, Tensor) for v in sd.values()):
        raise CheckpointError(f"{path} is not an ISBNet checkpoint (no 'net' state dict of tensors)")
    return {k.removeprefix("module."): v for k, v in sd.items()}


def mismatches(state_dict: Mapping[str, Tensor], model: torch.nn.Module) -> list[str]:
    """Every difference between a state dict and a model's keys and shapes, one line each."""
    expected = model.state_dict()
    problems = []
    for k, v in expected.items():
        if k not in state_dict:
            problems.append(f"missing key {k} {list(v.shape)}")
        elif tuple(state_dict[k].shape) != tuple(v.shape):
            problems.append(f"shape of {k}: checkpoint {list(state_dict[k].shape)}, config {list(v.shape)}")
    problems += [f"unexpected key {k} {list(v.shape)}" for k, v in state_dict.items() if k not in expected]
    return problems


def build_model(cfg: ModelConfig, state_dict: Mapping[str, Tensor] | None = None) -> ISBNet:
    """Build the model for `cfg` in eval mode, loading `state_dict` strictly if given."""
    model = ISBNet(cfg)
    if state_dict is not None:
        problems = mismatches(state_dict, model)
        if problems:
            shown = "; ".join(problems[:3]) + (
                f"; ... ({len(problems)} differences)" if len(problems) > 3 else ""
            )
            raise CheckpointError(f"checkpoint does not match config {cfg.name!r}: {shown}")
        model.load_state_dict(state_dict, strict=True)
    return model.eval()


def load_model(checkpoint: str | Path, config: str | Path | ModelConfig) -> ISBNet:
    """Load an official checkpoint with its official YAML config (or a `ModelConfig`)."""
    cfg = config if isinstance(config, ModelConfig) else load_config(config)
    return build_model(cfg, read_state_dict(checkpoint))


def matching_configs(state_dict: Mapping[str, Tensor], configs: Iterable[ModelConfig]) -> list[ModelConfig]:
    """The configs whose model has exactly the state dict's keys and shapes."""
    with torch.device("meta"):
        return [cfg for cfg in configs if not mismatches(state_dict, ISBNet(cfg))]


def content_digest(state_dict: Mapping[str, Tensor]) -> str:
    """sha256 over the sorted keys, dtypes, shapes and bytes: identifies the weights whatever
    the file's container (prefix, optimizer state, pickle protocol)."""
    h = hashlib.sha256()
    for k in sorted(state_dict):
        v = state_dict[k].detach().cpu().contiguous()
        h.update(f"{k}|{v.dtype}|{list(v.shape)}|".encode())
        h.update(v.reshape(-1).view(torch.uint8).numpy().tobytes() if v.numel() else b"")  # 0-d too
    return h.hexdigest()


def save_checkpoint(state_dict: Mapping[str, Tensor], path: str | Path, **extra: object) -> None:
    """Write `{"net": state_dict, **extra}` (the official format) atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save({"net": dict(state_dict), **extra}, tmp)


def candidate_config_paths(checkpoint: Path, search_dirs: Iterable[Path] = ()) -> list[Path]:
    """Where a checkpoint's config may be, in order: `<ckpt>.yaml`, `config.yaml` beside it, the
    YAMLs of `search_dirs` and of `$ISBNET_TRT_CONFIGS` (colon-separated), the demo config."""
    dirs = list(search_dirs) + [Path(d) for d in os.environ.get("ISBNET_TRT_CONFIGS", "").split(":") if d]
    paths = [checkpoint.with_suffix(".yaml"), checkpoint.parent / "config.yaml"]
    paths += [p for d in dirs for p in sorted(Path(d).glob("*.yaml"))]
    paths.append(Path(__file__).parent / "data" / "demo.yaml")
    unique: dict[Path, Path] = {}
    for p in paths:
        if p.is_file():
            unique.setdefault(p.resolve(), p)
    return list(unique.values())


def resolve_config(
    checkpoint: str | Path, config: str | Path | None = None, search_dirs: Iterable[Path] = ()
) -> ModelConfig:
    """The config of a checkpoint: `config` when given, else the one candidate config
    (`candidate_config_paths`) whose model has exactly the checkpoint's keys and shapes."""
    if config is not None:
        return load_config(config)
    checkpoint = Path(checkpoint)
    state_dict = read_state_dict(checkpoint)
    paths = candidate_config_paths(checkpoint, search_dirs)
    configs = [load_config(p) for p in paths]
    matches = matching_configs(state_dict, configs)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        looked = ", ".join(str(p) for p in paths) or "none found"
        raise CheckpointError(
            f"no known config matches checkpoint {checkpoint} (looked at: {looked}); pass --config"
        )
    names = ", ".join(c.name for c in matches)
    raise CheckpointError(f"several configs match checkpoint {checkpoint} ({names}); pass --config")

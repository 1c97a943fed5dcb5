"""`manifest.json` of an export directory: what was exported, from what, with what.

Written by `export.build`; read only by `read_manifest` here, for the runtimes and the TensorRT
builder (`export.tensorrt_engines.stage_specs` takes the stages and `dims` from its result).

    {
      "format": "isbnet-trt-export", "format_version": 2, "package_version": "0.1.0",
      "opset": 17,
      "custom_ops": {"domain": "isbnet", "version": 1, "ops": [...]},
      "config": ModelConfig.to_dict(),
      "checkpoint": {"file": "model.pth", "sha256": "...", "content_digest": "..."},
      "tools": {"torch": "...", "onnx": "...", "onnxscript": "...", "onnxruntime": "..."},
      "dims": {"n_voxels": [min, opt, max], ...},      # ranges of the symbolic dims
      "stages": [{"name": "backbone", "onnx": "backbone.onnx", "sha256": "...",
                  "inputs": [{"name", "dtype", "dims"}], "outputs": [...]},
                 {"name": "aggregator", ...}, {"name": "decoder_192", "n_sample": 192, ...}, ...,
                 {"name": "mask_head", ...}]
    }

A reader accepts only `format_version == FORMAT_VERSION`: any change to the stage graphs' I/O or
semantics bumps it, so a runtime never feeds a graph it does not understand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isbnet_trt.errors import IsbnetError
from isbnet_trt.files import write_atomic
from isbnet_trt.isbnet.config import ModelConfig


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output: name, numpy dtype name, dims (int or symbolic name)."""

    name: str
    dtype: str
    dims: tuple[int | str, ...]

    def to_dict(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "dims": list(self.dims)}


FORMAT = "isbnet-trt-export"
FORMAT_VERSION = 2  # 2: the dynamic convolution left the decoders for the chunkable mask_head
MANIFEST_NAME = "manifest.json"

#: [min, opt, max] of every symbolic dim (TensorRT optimisation profiles). opt: a 150k-point
#: ScanNet room (~120k voxels, ~1000 superpoints, ~90k foreground voxels).
_LEVEL_OPT = (120_000, 65_000, 20_000, 5_000, 1_100, 220, 40)
_MAX_VOXELS = 1_000_000


def dim_ranges(cfg: ModelConfig) -> dict[str, list[int]]:
    dims = {"n_voxels": [1, _LEVEL_OPT[0], _MAX_VOXELS]}
    for lvl in range(1, cfg.num_blocks):
        dims[f"n_voxels_{lvl}"] = [1, _LEVEL_OPT[min(lvl, len(_LEVEL_OPT) - 1)], _MAX_VOXELS]
    if cfg.use_spp_pool:
        dims["n_superpoints"] = [1, 1_000, _MAX_VOXELS]
    dims["n_fg"] = [1, 90_000, _MAX_VOXELS]
    n_pa1 = cfg.instance_head.n_sample_pa1
    dims["n_cand"] = [1, n_pa1, n_pa1]
    most = max(cfg.n_sample_rounds)  # the runtime's mask-head chunks hold at most one round's queries
    dims["n_queries"] = [1, most, most]
    return dims


class ManifestError(IsbnetError, ValueError):
    """The directory is not an export, or one this version of isbnet-trt cannot read."""


@dataclass(frozen=True)
class StageEntry:
    """One stage graph: name, ONNX file (absolute), I/O specs, n_sample (decoders only)."""

    name: str
    path: Path
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    n_sample: int | None = None


@dataclass(frozen=True)
class Manifest:
    """A read and validated manifest (`read_manifest`)."""

    directory: Path
    config: ModelConfig
    stages: dict[str, StageEntry]
    opset: int
    raw: dict[str, Any]

    @property
    def decoders(self) -> dict[int, StageEntry]:
        """n_sample -> decoder stage."""
        return {s.n_sample: s for s in self.stages.values() if s.n_sample is not None}

    @property
    def dims(self) -> Any:
        """Symbolic dim name -> its `[min, opt, max]` range, as written (the TensorRT builder,
        their one user, checks them: `export.tensorrt_engines.stage_specs`)."""
        return self.raw.get("dims") or {}

    def engines(self, fp16: bool) -> dict[str, Path]:
        """Stage -> the TensorRT engine `isbnet-trt export` built beside the graphs with this
        precision; empty when it built none (or with the other precision)."""
        built = self.raw.get("engines") or {}
        if not built or bool((self.raw.get("engine_options") or {}).get("fp16")) != fp16:
            return {}
        return {name: self.directory / file for name, file in built.items()}


def write_manifest(directory: Path, doc: dict[str, Any]) -> Path:
    """Write `doc` as `directory/manifest.json`, atomically (a reader never sees half of it)."""
    path = Path(directory) / MANIFEST_NAME
    write_atomic(path, json.dumps(doc, indent=2) + "\n")
    return path


def read_manifest(directory: str | Path) -> Manifest:
    """Read and validate `directory/manifest.json`; every stage file must exist.

    Raises `ManifestError` with one clear line for a missing or foreign directory, another
    format version, or missing stage files."""
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    if not directory.is_dir():
        raise ManifestError(f"export directory not found: {directory}")
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(
            f"{directory} is not an isbnet-trt export directory (no {MANIFEST_NAME})"
        ) from None
    except (OSError, ValueError) as e:
        raise ManifestError(f"cannot read {path}: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ManifestError(f"{path} is not an isbnet-trt export manifest")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise ManifestError(
            f"{directory} was exported with manifest format version {version} (isbnet-trt "
            f"{doc.get('package_version', '?')}); this isbnet-trt reads version {FORMAT_VERSION}: "
            "export the checkpoint again"
        )
    try:
        cfg = ModelConfig.from_dict(doc["config"])
        stages = {}
        for entry in doc["stages"]:
            stage = StageEntry(
                name=entry["name"],
                path=directory / entry["onnx"],
                inputs=tuple(_spec(s) for s in entry["inputs"]),
                outputs=tuple(_spec(s) for s in entry["outputs"]),
                n_sample=entry.get("n_sample"),
            )
            stages[stage.name] = stage
        opset = int(doc["opset"])
    except (KeyError, TypeError, ValueError) as e:
        raise ManifestError(f"{path} is malformed ({type(e).__name__}: {e})") from None
    missing = [s.path.name for s in stages.values() if not s.path.is_file()]
    if missing:
        raise ManifestError(f"{directory} lacks stage files: {', '.join(missing)}")
    needed = {"backbone", "aggregator", "mask_head"}
    if not needed <= stages.keys() or not any(s.n_sample for s in stages.values()):
        raise ManifestError(
            f"{path} lacks stages (has {sorted(stages)}; needs backbone, aggregator, decoder_<n>, mask_head)"
        )
    return Manifest(directory, cfg, stages, opset, doc)


def _spec(d: dict[str, Any]) -> TensorSpec:
    return TensorSpec(str(d["name"]), str(d["dtype"]), tuple(d["dims"]))

"""The export cache: the ONNX stages of a checkpoint, exported once per weights, config,
manifest format and package version (`isbnet_trt.runtime.backends.cached_export`).

Looking an export up needs neither `onnx` nor the exporter (a second or more of imports on
every cold start); only a miss imports them (`export.build.export_cached`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import isbnet_trt
from isbnet_trt.errors import IsbnetError
from isbnet_trt.export.manifest import FORMAT_VERSION, MANIFEST_NAME, read_manifest
from isbnet_trt.isbnet.checkpoint import content_digest, read_state_dict
from isbnet_trt.isbnet.config import ModelConfig


def cache_entry(checkpoint: Path, cfg: ModelConfig, cache_root: Path) -> Path:
    """`cache_root/<key>`: the directory the export of `checkpoint` with `cfg` lives in."""
    key_src = json.dumps(
        [content_digest(read_state_dict(checkpoint)), cfg.to_dict(), FORMAT_VERSION, isbnet_trt.__version__],
        sort_keys=True,
    )
    return Path(cache_root) / hashlib.sha256(key_src.encode()).hexdigest()[:20]


def is_valid_export(out_dir: Path) -> bool:
    """Whether `out_dir` holds a complete export with a readable manifest (else: export again)."""
    if not (out_dir / MANIFEST_NAME).is_file():
        return False
    try:
        read_manifest(out_dir)
    except IsbnetError:
        return False  # stale or broken
    return True

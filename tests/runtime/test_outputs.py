"""Label ids of the ScanNet benchmark format, per dataset (official `save_single_instance`)."""

from __future__ import annotations

import dataclasses

import pytest

from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.runtime.outputs import benchmark_label_id


@pytest.mark.parametrize(
    ("dataset", "classes", "label_ids", "benchmark_ids"),
    [
        ("scannetv2", 20, [1, 2, 18], [3, 4, 39]),  # cabinet, bed, otherfurniture
        # official list index label_id + 1: chair (label 1) gets 2 there, table (2) gets 4
        ("scannet200", 200, [1, 2, 198], [2, 4, 1191]),
        ("s3dis", 13, [3, 12], [4, 13]),
        ("stpls3d", 15, [1, 14], [2, 15]),
    ],
)
def test_benchmark_label_ids(dataset, classes, label_ids, benchmark_ids):
    cfg = dataclasses.replace(ModelConfig(), dataset_name=dataset, semantic_classes=classes)
    assert [benchmark_label_id(cfg, i) for i in label_ids] == benchmark_ids
    names = cfg.semantic_class_names
    assert len(names) == classes and not any(n.startswith("class_") for n in names)
    if dataset == "scannet200":
        assert names[:4] == ("wall", "floor", "chair", "table")


def test_mask_lines_are_what_savetxt_writes(tmp_path):
    """The fast ScanNet mask writer gives the bytes of `np.savetxt(mask, fmt="%d")`."""
    import numpy as np

    from isbnet_trt.runtime.outputs import mask_lines

    mask = np.random.default_rng(0).random(1000) < 0.3
    np.savetxt(tmp_path / "ref.txt", mask.astype(np.uint8), fmt="%d")
    assert mask_lines(mask) == (tmp_path / "ref.txt").read_bytes()
    assert mask_lines(np.zeros(0, bool)) == b""


def test_output_dir_is_checked_without_being_created(tmp_path):
    from isbnet_trt.runtime.outputs import OutputError, check_output_dir, make_output_dir

    deep = tmp_path / "a" / "b" / "c"
    assert check_output_dir(deep) == deep and not (tmp_path / "a").exists()
    make_output_dir(deep)
    assert deep.is_dir()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OutputError, match="it is a file"):
        check_output_dir(a_file)
    with pytest.raises(OutputError, match="is not a directory"):
        check_output_dir(a_file / "sub")


def test_atomic_files_follow_the_umask(tmp_path):
    import os

    from isbnet_trt.runtime.outputs import atomic_path

    old = os.umask(0o077)
    try:
        with atomic_path(tmp_path / "private.bin") as tmp:
            tmp.write_bytes(b"x")
        os.umask(0o002)
        with atomic_path(tmp_path / "shared.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "private.bin").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "shared.bin").stat().st_mode & 0o777 == 0o664
    assert sorted(p.name for p in tmp_path.iterdir()) == ["private.bin", "shared.bin"]

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

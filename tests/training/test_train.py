"""Training code: targets, losses and matching on hand-made cases, the training U-Net's gradients,
training data vs the test-time preprocessing, a tiny training run (loss, checkpoint, resume), and
the shipped demo weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from isbnet_trt.isbnet import demo
from isbnet_trt.isbnet.checkpoint import load_model, read_state_dict
from isbnet_trt.isbnet.config import ModelConfig, load_config
from isbnet_trt.isbnet.inference import predict
from isbnet_trt.isbnet.model import ISBNet
from isbnet_trt.isbnet.preprocess import prepare_scene
from isbnet_trt.training.criterion import (
    PointTargets,
    QueryOutputs,
    box_iou_giou,
    instance_losses,
    match_queries,
    point_wise_losses,
    query_losses,
)
from isbnet_trt.training.synthetic import generate_room
from isbnet_trt.training.targets import IGNORE, SuperpointTargets, instance_info, superpoint_targets
from isbnet_trt.training.train import eval_rooms, lr_at, main
from isbnet_trt.training.train_backbone import backbone_features
from isbnet_trt.training.train_data import (
    AugmentOptions,
    drop_in_holes,
    elastic_distortion,
    make_train_scene,
    recolour_objects,
)
from isbnet_trt.training.train_forward import forward_train, set_train_mode, trainable_parameters


@pytest.fixture(autouse=True)
def one_thread(one_torch_thread: None) -> None:
    """One torch thread: the CPUs are shared, and oversubscribed OpenMP threads crawl."""


@pytest.fixture(scope="module")
def tiny_yaml(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small official-format config (3 U-Net levels, few queries) for fast training tests."""
    cfg = yaml.safe_load(demo.demo_config_path().read_text())
    cfg["model"].update(channels=8, num_blocks=3, mask_dim_out=8)
    cfg["model"]["instance_head_cfg"].update(dec_dim=16, n_sample_pa1=128, n_queries=32, neighbor=8)
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


@pytest.fixture(scope="module")
def tiny_cfg(tiny_yaml: str) -> ModelConfig:
    return load_config(tiny_yaml)


# ----------------------------------------------------------------------------- targets
def test_instance_info_boxes_offsets_classes() -> None:
    coords = torch.tensor(
        [[0, 0, 0], [2, 0, 0], [0, 4, 0], [5, 5, 5], [7, 5, 1], [9, 9, 9]], dtype=torch.float32
    )
    inst = torch.tensor([0, 0, 0, 1, 1, IGNORE])
    sem = torch.tensor([4, 4, 4, 7, 7, 0])
    info = instance_info(coords, inst, sem, label_shift=2)
    assert info.cls.tolist() == [2, 5]
    assert torch.equal(info.box, torch.tensor([[0, 0, 0, 2, 4, 0], [5, 5, 1, 7, 5, 5]], dtype=torch.float32))
    assert torch.allclose(info.centroid_offset[1], torch.tensor([2 / 3 - 2, 4 / 3, 0]))
    assert torch.equal(info.corners_offset[4], torch.tensor([-2.0, 0, 0, 0, 0, 4]))
    assert (info.centroid_offset[5] == IGNORE).all() and (info.corners_offset[5] == IGNORE).all()


def test_superpoint_targets_majority_and_background_instances() -> None:
    coords = torch.zeros(8, 3)
    inst = torch.tensor([0, 0, 0, 1, 1, 2, IGNORE, IGNORE])
    sem = torch.tensor([5, 5, 5, 9, 9, 1, 0, 0])  # instance 2 has a non-instance class (floor)
    spps = torch.tensor([0, 0, 1, 1, 1, 2, 2, 3])
    gt = superpoint_targets(inst, spps, instance_info(coords, inst, sem, 2))
    assert gt is not None and len(gt) == 2  # instance 2 (class < 0) is no GT
    assert gt.cls.tolist() == [3, 7]
    # superpoint 1 holds 1 voxel of instance 0 and 2 of instance 1; superpoint 2 half instance 2
    assert gt.masks.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert (
        superpoint_targets(
            torch.full((3,), IGNORE),
            torch.arange(3),
            instance_info(coords[:3], torch.full((3,), IGNORE), sem[:3], 2),
        )
        is None
    )


# ------------------------------------------------------------------------------ losses
def test_box_iou_giou() -> None:
    a = torch.tensor([[0.0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]])
    b = torch.tensor([[0.0, 0, 0, 1, 1, 1], [2, 0, 0, 3, 1, 1]])
    iou, giou = box_iou_giou(a, b)
    assert iou[0] == pytest.approx(1, abs=1e-5) and giou[0] == pytest.approx(1, abs=1e-5)
    assert iou[1] == 0 and giou[1] == pytest.approx(-1 / 3, abs=1e-5)  # hull 3, union 2
    cross_iou, _ = box_iou_giou(a[:, None], b[None])
    assert cross_iou.shape == (2, 2) and cross_iou[0, 1] == 0


def _gt(n_gt: int = 3, n_spp: int = 12) -> SuperpointTargets:
    masks = torch.zeros(n_gt, n_spp)
    for i in range(n_gt):
        masks[i, i * 4 : i * 4 + 3] = 1
    boxes = torch.tensor([[i, 0.0, 0, i + 1, 1, 1] for i in range(n_gt)])
    return SuperpointTargets(masks=masks, cls=torch.arange(n_gt) + 2, box=boxes)


def _perfect_queries(
    gt: SuperpointTargets, order: list[int], n_extra: int = 2, n_cls: int = 18
) -> QueryOutputs:
    """Queries predicting GT `order[i]` perfectly, then `n_extra` background queries."""
    n_q = len(order) + n_extra
    mask_logits = torch.full((n_q, gt.masks.shape[1]), -20.0)
    cls_logits = torch.zeros(n_q, n_cls + 1)
    boxes = torch.tensor([[5.0, 5, 5, 6, 6, 6]]).repeat(n_q, 1)
    cls_logits[:, -1] = 10
    for q, g in enumerate(order):
        mask_logits[q] = gt.masks[g] * 40 - 20
        cls_logits[q] = 0
        cls_logits[q, gt.cls[g]] = 10
        boxes[q] = gt.box[g]
    return QueryOutputs(cls_logits, mask_logits, torch.ones(n_q), boxes)


def test_matching_assigns_the_obvious_pairs() -> None:
    gt = _gt()
    out = _perfect_queries(gt, [2, 0, 1])
    rows, cols = match_queries(out, gt)
    assert dict(zip(rows.tolist(), cols.tolist(), strict=True)) == {0: 2, 1: 0, 2: 1}
    rows, cols = match_queries(out, gt, dup_gt=2)  # 6 GT copies, 5 queries: 5 pairs, every GT used
    assert len(rows) == 5 and sorted(np.bincount(cols % 3, minlength=3).tolist()) == [1, 2, 2]


def test_perfect_predictions_give_near_zero_mask_loss() -> None:
    gt = _gt()
    out = _perfect_queries(gt, [1, 2, 0])
    rows, cols = match_queries(out, gt)
    losses = instance_losses(out, gt, rows, cols)
    assert losses["dice_loss"] < 1e-6 and losses["bce_loss"] < 1e-6
    assert losses["box_loss"] < 1e-6 and losses["giou_loss"] < 1e-5
    assert losses["iou_loss"] < 1e-6  # confidence 1 = mask IoU 1
    assert losses["cls_loss"] < 1e-3
    # a wrong mask costs more
    bad = QueryOutputs(out.cls_logits, -out.mask_logits, out.conf_logits, out.box_preds)
    assert instance_losses(bad, gt, rows, cols)["dice_loss"] > 0.9
    terms = query_losses(out, gt)
    assert set(terms) == {
        p + k
        for p in ("", "aux_")
        for k in ("dice_loss", "bce_loss", "cls_loss", "iou_loss", "box_loss", "giou_loss")
    }


def test_point_wise_losses_zero_for_perfect_offsets() -> None:
    coords = torch.tensor([[0.0, 0, 0], [1, 0, 1], [0, 1, 0], [3, 3, 3]])  # a 3-D box
    inst = torch.tensor([0, 0, 0, IGNORE])
    sem = torch.tensor([2, 2, 2, 0])
    info = instance_info(coords, inst, sem, 2)
    t = PointTargets(sem, inst, info.centroid_offset, info.corners_offset, coords)
    scores = torch.nn.functional.one_hot(sem, 20).float() * 30
    iou = torch.ones(4)
    losses = point_wise_losses(scores, info.centroid_offset, info.corners_offset, iou, t)
    assert all(float(v) < 1e-5 for v in losses.values()), losses


# ---------------------------------------------------------------------- training model
def test_training_unet_matches_model_forward_and_gradients(tiny_cfg: ModelConfig) -> None:
    torch.manual_seed(0)
    model = ISBNet(tiny_cfg).double().train()
    scene = make_train_scene(generate_room(3000, seed=2), np.random.default_rng(0), tiny_cfg)
    params = [p for n, p in model.named_parameters() if n.startswith(("input_conv", "unet", "output_layer"))]
    x = scene.voxel_feats.double().requires_grad_()
    ref = model.output_layer(model.unet(model.input_conv[0](x, scene.pairs[0].subm), scene.pairs))
    out = backbone_features(model, x, scene.levels)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    w = torch.randn_like(ref)
    g_ref = torch.autograd.grad((ref * w).sum(), [x, *params])
    g_out = torch.autograd.grad((out * w).sum(), [x, *params])
    for a, b in zip(g_out, g_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_unaugmented_training_scene_equals_test_preprocessing(tiny_cfg: ModelConfig) -> None:
    room = generate_room(4000, seed=3)
    scene = make_train_scene(room, np.random.default_rng(0), tiny_cfg, opts=None)
    ref = prepare_scene(room.points, room.superpoints, tiny_cfg)
    assert torch.equal(scene.voxel_feats, ref.voxel_feats)
    assert torch.equal(scene.voxel_coords_float, ref.voxel_coords_float)
    assert torch.equal(scene.voxel_spps, ref.voxel_spps)


def test_elastic_distortion_is_smooth_and_seeded() -> None:
    xyz = np.random.default_rng(0).uniform(-100, 100, (500, 3))
    a = elastic_distortion(xyz, np.random.default_rng(1), 6, 40.0)
    b = elastic_distortion(xyz, np.random.default_rng(1), 6, 40.0)
    assert np.array_equal(a, b)
    shift = np.linalg.norm(a - xyz, axis=1)
    assert 0 < shift.mean() < 20  # a few voxels, not a scramble


def test_recolour_objects_keeps_shading_and_groups() -> None:
    rng = np.random.default_rng(0)
    colours = rng.uniform(-0.1, 0.1, (600, 3))  # mild shading: nothing clips
    groups = np.repeat([3, 7, 1000], 200)
    out = recolour_objects(colours, groups, np.random.default_rng(1))
    assert out.shape == colours.shape and out.min() > -1 and out.max() < 1
    lum_in = (colours.mean(1) + 1) / 2 + 1e-3
    for g in (3, 7, 1000):
        m = groups == g
        rgb = (out[m] + 1) / 2
        chroma = rgb / rgb.sum(1, keepdims=True)
        assert np.ptp(chroma, axis=0).max() < 1e-9  # one colour per group
        ratio = rgb.sum(1) / lum_in[m]  # brightness relative to the input's: constant per group
        assert np.ptp(ratio) < 1e-9 * ratio.mean()
    assert not np.allclose(out[groups == 3].mean(0), out[groups == 7].mean(0))


def test_recolouring_off_leaves_the_training_scenes_unchanged(tiny_cfg: ModelConfig) -> None:
    room = generate_room(4000, seed=3)
    a = make_train_scene(room, np.random.default_rng(5), tiny_cfg, AugmentOptions())
    b = make_train_scene(room, np.random.default_rng(5), tiny_cfg, AugmentOptions(recolour_prob=0.0))
    c = make_train_scene(room, np.random.default_rng(5), tiny_cfg, AugmentOptions(recolour_prob=1.0))
    assert torch.equal(a.voxel_feats, b.voxel_feats) and not torch.equal(a.voxel_feats, c.voxel_feats)


def test_geometry_switches_off_leave_the_training_scenes_unchanged(tiny_cfg: ModelConfig) -> None:
    room = generate_room(4000, seed=3)
    a = make_train_scene(room, np.random.default_rng(5), tiny_cfg, AugmentOptions())
    off = AugmentOptions(scale=0.0, extra_noise=0.0, holes_prob=0.0)
    b = make_train_scene(room, np.random.default_rng(5), tiny_cfg, off)
    assert torch.equal(a.voxel_feats, b.voxel_feats)
    for on in (AugmentOptions(scale=0.3), AugmentOptions(extra_noise=0.02), AugmentOptions(holes_prob=1.0)):
        c = make_train_scene(room, np.random.default_rng(5), tiny_cfg, on)
        assert c.voxel_feats.shape != a.voxel_feats.shape or not torch.equal(a.voxel_feats, c.voxel_feats)


def test_drop_in_holes_keeps_labels_with_their_points() -> None:
    room = generate_room(20_000, seed=6)
    holed = drop_in_holes(room, np.random.default_rng(0), 0.3)
    assert 0.5 * len(room.points) <= len(holed.points) <= 0.7 * len(room.points)
    # Each kept point keeps its own labels: match rows back by their exact coordinates.
    index = {tuple(p): i for i, p in enumerate(room.points[:, :3].tolist())}
    rows = np.array([index[tuple(p)] for p in holed.points[:, :3].tolist()])
    assert np.array_equal(holed.semantic_labels, room.semantic_labels[rows])
    assert np.array_equal(holed.instance_labels, room.instance_labels[rows])
    spp = holed.superpoints
    assert spp.min() == 0 and np.array_equal(np.unique(spp), np.arange(spp.max() + 1))
    # Renumbering keeps the partition: same original superpoint <=> same new id.
    pairs = np.unique(np.stack([room.superpoints[rows], spp]), axis=1)
    assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


def test_lr_schedule() -> None:
    assert lr_at(0, 100, 1e-3, 0.4) == lr_at(39, 100, 1e-3, 0.4) == 1e-3
    assert lr_at(70, 100, 1e-3, 0.4) == pytest.approx(5e-4, rel=1e-2)
    assert lr_at(99, 100, 1e-3, 0.4) < 1e-5


def test_backbone_training_decreases_the_loss(tiny_cfg: ModelConfig) -> None:
    torch.manual_seed(0)
    model = ISBNet(tiny_cfg)
    scene = make_train_scene(generate_room(4000, seed=4), np.random.default_rng(0), tiny_cfg)
    set_train_mode(model, "backbone")
    opt = torch.optim.AdamW(trainable_parameters(model, "backbone"), lr=1e-2)
    losses = []
    for _ in range(5):
        loss, terms = forward_train(model, scene, "backbone")
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(terms["loss"])
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    assert losses[-1] < 0.9 * losses[0]


def test_joint_step_has_every_loss_and_gradient(tiny_cfg: ModelConfig) -> None:
    torch.manual_seed(0)
    model = ISBNet(tiny_cfg)
    scene = make_train_scene(generate_room(4000, seed=4), np.random.default_rng(0), tiny_cfg)
    set_train_mode(model, "joint")
    loss, terms = forward_train(model, scene, "joint")
    assert {"pw_sem_loss", "pw_giou_loss", "dice_loss", "aux_cls_loss"} <= set(terms)
    loss.backward()
    grads = [p.grad for p in trainable_parameters(model, "joint")]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_frozen_backbone_stage_trains_only_the_instance_head(tiny_cfg: ModelConfig) -> None:
    model = ISBNet(tiny_cfg)
    names = {id(p): n for n, p in model.named_parameters()}
    inst = {names[id(p)].split(".")[0] for p in trainable_parameters(model, "instance")}
    assert "unet" not in inst and {"point_aggregator1", "mask_tower", "inst_mask_head"} <= inst
    set_train_mode(model, "instance")
    assert not model.unet.training and model.mask_tower.training


def _train_args(tiny_yaml: str, work: str, *extra: str) -> list[str]:
    return [
        "--config", tiny_yaml, "--work-dir", work, "--min-points", "3000", "--max-points", "5000",
        "--log-every", "1", "--eval-every", "0", "--ckpt-every", "2", *extra,
    ]  # fmt: skip


def test_training_run_checkpoints_and_resumes_exactly(tiny_yaml: str, tmp_path) -> None:
    straight, split = tmp_path / "a", tmp_path / "b"
    schedule = ("--backbone-steps", "3", "--instance-steps", "2")
    assert main(_train_args(tiny_yaml, str(straight), *schedule)) == 0
    # the same schedule interrupted after 2 steps, then resumed from its checkpoint
    assert main(_train_args(tiny_yaml, str(split), *schedule, "--stop-after", "2")) == 0
    assert not (split / "final.pth").exists()
    assert main(_train_args(tiny_yaml, str(split), *schedule, "--resume")) == 0
    a, b = read_state_dict(straight / "final.pth"), read_state_dict(split / "final.pth")
    assert all(torch.equal(a[k], b[k]) for k in a)
    model = load_model(straight / "final.pth", tiny_yaml)  # strict, official format
    assert isinstance(model, ISBNet) and not model.training
    ckpt = torch.load(straight / "latest.pth", weights_only=True)
    assert {"net", "optimizer", "phase", "step", "epoch"} <= set(ckpt)


def test_eval_rooms_are_held_out_and_span_the_sizes() -> None:
    rooms = eval_rooms(range(500, 520))
    assert rooms[0] == (500, 30_000) and rooms[-1] == (519, 150_000)


# ------------------------------------------------------------------------- demo model
@pytest.mark.skipif(not demo.demo_weights_path().is_file(), reason="demo weights not shipped")
def test_demo_weights_segment_a_room() -> None:
    model = demo.load_demo_model()
    assert model.cfg.name == "demo"
    room = generate_room(60_000, seed=777)  # held-out seed (training seeds are >= 1e6)
    inst = predict(model, room.points, room.superpoints)
    confident = inst.scores >= 0.5
    assert confident.sum() >= 5
    present = set(np.unique(room.semantic_labels[room.instance_labels >= 0]).tolist())
    classes = inst.semantic_classes[confident]
    assert np.isin(classes, sorted(present)).mean() >= 0.8
    # most confident instances overlap a GT instance well
    best_iou = []
    for mask in inst.masks[confident]:
        ids, counts = np.unique(room.instance_labels[mask], return_counts=True)
        gt_id = ids[np.argmax(counts)]
        gt_mask = room.instance_labels == gt_id
        best_iou.append((mask & gt_mask).sum() / (mask | gt_mask).sum() if gt_id >= 0 else 0.0)
    assert np.mean(np.array(best_iou) > 0.5) >= 0.6

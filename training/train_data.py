"""Training scenes: random synthetic rooms, the official training augmentation, voxel targets.

`sample_room` draws a room of random size, density, noise, colour noise, object density and
superpoint granularity (a generator-independent model must not learn one density or palette),
optionally from the second generator (`training.synthetic`, generator b) instead.
`augment` is the official `transform_train` (random jitter / flip / full rotation of the
coordinates, two elastic distortions of the voxel coordinates, per-scene colour shift) plus
photometric augmentation of our own (brightness, contrast, per-channel gain, occasional
grey, optionally random colours per object) and, optionally, object-size scaling, extra
position noise and occlusion holes. `make_train_scene` voxelises the result as the
official training does and computes the targets (`training.targets`).

Every random draw comes from the `numpy.random.Generator` passed in: a (seed, step) pair gives
the same scene in every run, which makes training resumable and deterministic.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import map_coordinates, uniform_filter1d
from torch import Tensor

from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.preprocess import official_preparation
from isbnet_trt.isbnet.voxelize import voxel_mean, voxelize
from isbnet_trt.plugins.kernel_maps.reference import build_unet_maps
from isbnet_trt.plugins.sparse_conv.reference import LevelPairs
from isbnet_trt.training.synthetic import SyntheticScene, generate_room, get_generator
from isbnet_trt.training.targets import (
    IGNORE,
    InstanceInfo,
    SuperpointTargets,
    instance_info,
    superpoint_targets,
)
from isbnet_trt.training.train_backbone import TrainLevel, build_train_levels


@dataclass(frozen=True)
class RoomDistribution:
    """Ranges of the random training rooms (uniform unless said otherwise)."""

    min_points: int = 30_000
    max_points: int = 150_000  # point count is log-uniform in [min, max]
    noise: tuple[float, float] = (0.002, 0.012)  # position noise std, m
    colour_noise: tuple[float, float] = (2.0, 10.0)  # per-point rgb noise std, 0..255
    object_density: tuple[float, float] = (0.6, 1.5)
    superpoint_size: tuple[float, float] = (0.2, 0.5)  # m, object patches
    structure_superpoint_size: tuple[float, float] = (0.4, 0.9)  # m, walls / floor
    ceiling_prob: float = 0.15
    min_seed: int = 1_000_000  # generator seeds in [min_seed, 2**31): held-out rooms use smaller ones
    second_generator_prob: float = 0.0  # share of rooms from generator b (superpoints computed)


@dataclass(frozen=True)
class AugmentOptions:
    """Official `transform_train` switches, plus our photometric augmentation."""

    jitter: float = 0.1  # official: m += randn(3, 3) * 0.1
    flip: bool = True
    rotate: bool = True  # full random rotation about z (test time uses a fixed 0.35 pi)
    elastic: bool = True  # official: elastic(6, 40) then elastic(20, 160), in voxel units
    colour_shift: float = 0.1  # official: feats += randn(3) * 0.1 (colours in [-1, 1])
    brightness: float = 0.2  # ours: colours * U(1 - b, 1 + b)
    contrast: float = 0.2  # ours: (colours - mean) * U(1 - c, 1 + c) + mean
    channel_gain: float = 0.08  # ours: per-channel gain N(1, g)
    grey_prob: float = 0.1  # ours: replace colours by their grey level
    recolour_prob: float = 0.0  # ours: give every object and structure class a random colour
    scale: float = 0.0  # ours: coordinates * log-uniform factor in [1 / (1 + s), 1 + s] (object sizes)
    extra_noise: float = 0.0  # ours: extra position noise, std uniform in [0, extra_noise] m
    holes_prob: float = 0.0  # ours: share of scenes with occlusion holes (see `drop_in_holes`)
    holes_fraction: float = 0.3  # ours: at most this share of the points is dropped in holes


def sample_room(rng: np.random.Generator, dist: RoomDistribution = RoomDistribution()) -> SyntheticScene:
    """One random synthetic room (its generator seed drawn from `rng`)."""
    lo, hi = math.log(dist.min_points), math.log(dist.max_points)
    n_points = int(round(math.exp(rng.uniform(lo, hi))))
    if dist.second_generator_prob > 0 and rng.random() < dist.second_generator_prob:  # no draw when off
        return get_generator("b")(n_points, seed=int(rng.integers(dist.min_seed, 2**31)))
    return generate_room(
        n_points,
        seed=int(rng.integers(dist.min_seed, 2**31)),
        noise=float(rng.uniform(*dist.noise)),
        colour_noise=float(rng.uniform(*dist.colour_noise)),
        object_density=float(rng.uniform(*dist.object_density)),
        superpoint_size=float(rng.uniform(*dist.superpoint_size)),
        structure_superpoint_size=float(rng.uniform(*dist.structure_superpoint_size)),
        ceiling=bool(rng.random() < dist.ceiling_prob),
    )


def elastic_distortion(
    xyz: np.ndarray, rng: np.random.Generator, granularity: float, magnitude: float
) -> np.ndarray:
    """Smooth random displacement field (official `elastic`): Gaussian noise on a grid of
    spacing 2 * granularity centred on the origin, blurred twice by 3-tap box filters per axis,
    trilinearly interpolated at the points and scaled by `magnitude`. xyz `(N, 3)` float64."""
    bb = np.abs(xyz).max(0).astype(np.int64) // int(granularity) + 3
    noise = rng.standard_normal((3, *bb)).astype(np.float32)
    for _ in range(2):
        for axis in (1, 2, 3):
            noise = uniform_filter1d(noise, size=3, axis=axis, mode="constant")
    idx = ((xyz + (bb - 1) * granularity) / (2 * granularity)).T  # grid index of each point, (3, N)
    disp = np.stack([map_coordinates(noise[c], idx, order=1, mode="constant") for c in range(3)], axis=1)
    return xyz + disp * magnitude


def augment_geometry(
    coords: np.ndarray, rng: np.random.Generator, opts: AugmentOptions, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Official `dataAugment(jitter, flip, rot)` then scaling and elastic distortion.

    coords `(N, 3)` float64 centred metres → (xyz_middle `(N, 3)` float64 augmented metres, the
    model's float coordinates; xyz `(N, 3)` float64 voxel-unit coordinates >= 0 after the
    elastic distortion, floored to voxel coordinates). As officially, the elastic distortion
    moves the voxel grid positions only, not the float coordinates.
    """
    m = np.eye(3) + rng.standard_normal((3, 3)) * opts.jitter
    theta = rng.uniform(0, 2 * math.pi) if opts.rotate else 0.35 * math.pi
    c, s = math.cos(theta), math.sin(theta)
    xyz_middle = coords @ (m @ np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]]))
    if opts.flip:
        for axis in (0, 1):
            if rng.random() < 0.5:
                xyz_middle[:, axis] = -xyz_middle[:, axis]
    xyz = xyz_middle * scale
    if opts.elastic:
        xyz = elastic_distortion(xyz, rng, 6, 40.0)
        xyz = elastic_distortion(xyz, rng, 20, 160.0)
    return xyz_middle, xyz - xyz.min(0)


def augment_colours(colours: np.ndarray, rng: np.random.Generator, opts: AugmentOptions) -> np.ndarray:
    """colours `(N, 3)` float64 in [-1, 1] (rgb / 127.5 - 1) → augmented, float64."""
    rgb = (colours + 1) / 2  # [0, 1]
    if rng.random() < opts.grey_prob:
        rgb = np.repeat(rgb.mean(1, keepdims=True), 3, axis=1)
    rgb = rgb * rng.uniform(1 - opts.brightness, 1 + opts.brightness)
    mean = rgb.mean(0)
    rgb = (rgb - mean) * rng.uniform(1 - opts.contrast, 1 + opts.contrast) + mean
    rgb = np.clip(rgb * rng.normal(1, opts.channel_gain, 3), 0, 1)
    return rgb * 2 - 1 + rng.standard_normal(3) * opts.colour_shift


def recolour_objects(colours: np.ndarray, groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """colours `(N, 3)` in [-1, 1] → every group (`groups` `(N,)` int: an instance, or a
    structure class) one uniformly random colour, each point keeping its brightness relative to
    its group's mean (the shading). Breaks the generator's class palettes, so that the model
    leans on geometry, which another generator or a real scan keeps."""
    lum = (colours.mean(1) + 1) / 2 + 1e-3
    uniq, inv = np.unique(groups, return_inverse=True)
    base = rng.uniform(0.1, 0.9, (len(uniq), 3))
    shading = lum / (np.bincount(inv, lum) / np.bincount(inv))[inv]
    return np.clip(base[inv] * shading[:, None], 0, 1) * 2 - 1


def drop_in_holes(room: SyntheticScene, rng: np.random.Generator, fraction: float) -> SyntheticScene:
    """`room` without the points inside random 0.2-0.6 m balls, until at least `fraction` of
    them are gone: the occlusion gaps of a real scan, which our generator's complete surfaces
    lack. Superpoint ids are renumbered 0..S-1."""
    xyz = room.points[:, :3]
    target = 1.0 - fraction
    keep = np.ones(len(xyz), dtype=bool)
    while len(xyz) and keep.mean() > target:
        centre = xyz[rng.integers(len(xyz))]
        keep &= np.einsum("ij,ij->i", xyz - centre, xyz - centre) > rng.uniform(0.2, 0.6) ** 2
    return dataclasses.replace(
        room,
        points=room.points[keep],
        superpoints=np.unique(room.superpoints[keep], return_inverse=True)[1].reshape(-1),
        semantic_labels=room.semantic_labels[keep],
        instance_labels=room.instance_labels[keep],
    )


def augment_size_and_noise(coords: np.ndarray, rng: np.random.Generator, opts: AugmentOptions) -> np.ndarray:
    """coords `(N, 3)` float64 centred metres → scaled by a log-uniform factor (objects of
    other sizes than the generator's) and with extra Gaussian noise (noisier scans). Draws
    nothing for the switches that are off, so earlier recipes give the same scenes."""
    if opts.scale > 0:
        coords = coords * math.exp(rng.uniform(-1, 1) * math.log1p(opts.scale))
    if opts.extra_noise > 0:
        coords = coords + rng.normal(0.0, rng.uniform(0, opts.extra_noise), coords.shape)
    return coords


@dataclass(frozen=True)
class TrainScene:
    """One training scene, voxelised (M voxels, S superpoints).

    voxel_feats `(M, 6)` float32 mean `[rgb, xyz]`; voxel_coords_float `(M, 3)` float32;
    voxel_spps `(M,)` int64 0..S-1; pairs: the U-Net kernel pairs (inference convs); levels:
    the same geometry for the training convs (`training.train_backbone`); semantic_labels `(M,)` and
    instance_labels `(M,)` int64 of each voxel's first point (instances renumbered 0..K-1);
    info: point-wise targets; spp_gt: superpoint instance targets (None without instance).
    """

    voxel_feats: Tensor
    voxel_coords_float: Tensor
    voxel_spps: Tensor
    pairs: list[LevelPairs]
    levels: list[TrainLevel]
    semantic_labels: Tensor
    instance_labels: Tensor
    info: InstanceInfo
    spp_gt: SuperpointTargets | None
    n_points: int

    @property
    def n_voxels(self) -> int:
        return len(self.voxel_spps)


def make_train_scene(
    room: SyntheticScene,
    rng: np.random.Generator,
    cfg: ModelConfig,
    opts: AugmentOptions | None = AugmentOptions(),
) -> TrainScene:
    """Augment (unless `opts` is None: the official test-time geometry) and voxelise a room."""
    if opts is not None and opts.holes_prob > 0 and rng.random() < opts.holes_prob:  # no draw when off
        room = drop_in_holes(room, rng, rng.uniform(0.0, opts.holes_fraction))
    coords, colours = official_preparation(room.points)
    if opts is None:
        opts = AugmentOptions(jitter=0, flip=False, rotate=False, elastic=False)
        feats = colours
    else:
        if opts.recolour_prob > 0 and rng.random() < opts.recolour_prob:  # no draw when off: same scenes
            groups = np.where(room.instance_labels >= 0, room.instance_labels + 1000, room.semantic_labels)
            colours = recolour_objects(colours, groups, rng)
        feats = augment_colours(colours, rng, opts)
        coords = augment_size_and_noise(coords, rng, opts)
    xyz_middle, xyz = augment_geometry(coords, rng, opts, cfg.data_scale)
    voxels = voxelize(xyz.astype(np.int64))
    coords_float = xyz_middle.astype(np.float32)
    inputs = np.concatenate([feats.astype(np.float32), coords_float], 1) if cfg.with_coords else feats
    first = voxels.first_point
    spps = np.unique(room.superpoints[first], return_inverse=True)[1].reshape(-1)
    # Instance ids of the voxels' first points, renumbered 0..K-1 (official get_cropped_instance_label).
    inst = room.instance_labels[first]
    renum = np.full(inst.shape, IGNORE, dtype=np.int64)
    on = inst >= 0
    renum[on] = np.unique(inst[on], return_inverse=True)[1].reshape(-1)
    shape = np.maximum(voxels.voxel_coords.max(0) + 1, cfg.min_spatial_shape)
    maps = build_unet_maps(voxels.voxel_coords, cfg.num_blocks, shape)
    voxel_coords_float = torch.from_numpy(voxel_mean(coords_float, voxels))
    semantic = torch.from_numpy(room.semantic_labels[first].astype(np.int64))
    instance = torch.from_numpy(renum)
    spps_t = torch.from_numpy(spps.astype(np.int64))
    info = instance_info(voxel_coords_float, instance, semantic, cfg.label_shift)
    pairs = LevelPairs.from_level_maps(maps)
    return TrainScene(
        voxel_feats=torch.from_numpy(voxel_mean(np.ascontiguousarray(inputs, dtype=np.float32), voxels)),
        voxel_coords_float=voxel_coords_float,
        voxel_spps=spps_t,
        pairs=pairs,
        levels=build_train_levels(maps, pairs),
        semantic_labels=semantic,
        instance_labels=instance,
        info=info,
        spp_gt=superpoint_targets(instance, spps_t, info),
        n_points=len(room.points),
    )

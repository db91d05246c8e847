"""Render greyscale Fashion-MNIST garments as coloured, patterned RGB product shots."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from retrieval.catalogues.fmnist_vocab import COLOR_RGB, COLORS, PATTERNS

BACKGROUND = np.array([234.0, 234.0, 234.0], dtype=np.float32)  # grey: the same in R, G, B
OUTLINE = np.array([120.0, 120.0, 120.0], dtype=np.float32)  # grey too
PALETTE = np.array([COLOR_RGB[c] for c in COLORS], dtype=np.float32)
STRIPE_PERIOD = 6  # 1-pixel lines every 6 px: the named colour keeps 5/6 of the area
CHECK_PERIOD = 8  # 1-pixel grid every 8 px: about 77% of the area stays the named colour
DOT_PERIOD = 7  # 2x2 dots every 7 px: about 92% stays the named colour
MAX_SHADE_DEPTH = 0.45  # garment shading moves a colour at most this far toward black/white
SHADE_MARGIN = 25.0  # every shade stays this much nearer its own named colour (RGB distance)
PHASES = 8  # pattern offsets are drawn from [0, PHASES) pixels
RENDER_CHUNK = 32  # images rendered together: their float buffers stay in the CPU cache


def _nearest_is_own(rgb: np.ndarray, own: int, palette: np.ndarray, margin: float) -> bool:
    dist = np.linalg.norm(palette - rgb, axis=1)
    others = np.delete(dist, own)
    return bool(dist[own] + margin <= others.min())


@lru_cache(maxsize=1)
def shading() -> tuple[np.ndarray, np.ndarray]:
    """Per colour: the shadow direction (black for light colours, white for dark ones) and
    the deepest shading that keeps every shade nearer its own named colour than any other."""
    targets, depths = [], []
    for own, rgb in enumerate(PALETTE):
        luminance = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255.0
        target = np.zeros(3) if luminance > 0.25 else np.full(3, 255.0)
        depth = 0.0
        for step in np.arange(0.01, MAX_SHADE_DEPTH + 1e-9, 0.01):
            if not _nearest_is_own(rgb + (target - rgb) * step, own, PALETTE, SHADE_MARGIN):
                break
            depth = step
        targets.append(target)
        depths.append(depth)
    return np.array(targets, np.float32), np.array(depths, np.float32)


@lru_cache(maxsize=8)
def _bilinear_matrix(src: int, dst: int) -> np.ndarray:
    """(dst, src) matrix that resamples a 1-D signal bilinearly (align_corners=False)."""
    centres = (np.arange(dst) + 0.5) * src / dst - 0.5
    lo = np.clip(np.floor(centres).astype(int), 0, src - 1)
    hi = np.clip(lo + 1, 0, src - 1)
    frac = np.clip(centres - np.floor(centres), 0.0, 1.0)
    frac[centres < 0] = 0.0
    matrix = np.zeros((dst, src))
    matrix[np.arange(dst), lo] += 1.0 - frac
    matrix[np.arange(dst), hi] += frac
    return matrix.astype(np.float32)


def _pattern_masks(pattern: np.ndarray, phase: np.ndarray, size: int) -> np.ndarray:
    """(N, size, size) bool: where each item's pattern lines or dots are drawn."""
    if len(phase) and phase.min() >= 0 and phase.max() < PHASES:
        return _mask_table(size)[(pattern * PHASES + phase[:, 0]) * PHASES + phase[:, 1]]
    return _draw_pattern_masks(pattern, phase, size)


@lru_cache(maxsize=4)
def _mask_table(size: int) -> np.ndarray:
    """(P * 8 * 8, size, size) bool: the mask of every pattern at every phase in [0, 8)."""
    kinds, py, px = np.meshgrid(
        np.arange(len(PATTERNS)), np.arange(PHASES), np.arange(PHASES), indexing="ij"
    )
    phases = np.stack([py.ravel(), px.ravel()], axis=1)
    return _draw_pattern_masks(kinds.ravel(), phases, size)


def _draw_pattern_masks(pattern: np.ndarray, phase: np.ndarray, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    py = phase[:, 0, None, None]
    px = phase[:, 1, None, None]
    stripes = (yy + py) % STRIPE_PERIOD == 0
    checks = ((yy + py) % CHECK_PERIOD == 0) | ((xx + px) % CHECK_PERIOD == 0)
    dots = ((yy + py) % DOT_PERIOD < 2) & ((xx + px) % DOT_PERIOD < 2)
    kind = pattern[:, None, None]
    return (
        ((kind == PATTERNS.index("striped")) & stripes)
        | ((kind == PATTERNS.index("checked")) & checks)
        | ((kind == PATTERNS.index("dotted")) & dots)
    )


def contrast_color(rgb: np.ndarray) -> np.ndarray:
    """The line colour of a pattern: darker on light colours, lighter on dark ones."""
    luminance = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]) / 255.0
    dark = rgb * 0.3
    light = rgb + (255.0 - rgb) * 0.75
    return np.where(luminance[..., None] > 0.5, dark, light)


def upsample(garments: np.ndarray, size: int) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, size, size) float32 in [0, 1], bilinear."""
    resample = _bilinear_matrix(garments.shape[1], size)
    return resample @ (garments.astype(np.float32) / 255.0) @ resample.T


def silhouette(grey: np.ndarray) -> np.ndarray:
    """Soft garment mask in [0, 1] from upsampled grey levels."""
    return np.clip(grey / 0.12, 0.0, 1.0)


def render(
    garments: np.ndarray,
    colors: np.ndarray,
    patterns: np.ndarray,
    phases: np.ndarray,
    size: int = 64,
) -> np.ndarray:
    """Render garments as RGB product shots.

    Args:
        garments: (N, 28, 28) uint8 greyscale Fashion-MNIST images.
        colors: (N,) indices into vocab.COLORS.
        patterns: (N,) indices into vocab.PATTERNS.
        phases: (N, 2) pattern offsets in pixels (y, x).
        size: output side in pixels.

    Returns:
        (N, size, size, 3) uint8 images.
    """
    out = np.empty((len(garments), size, size, 3), np.uint8)
    colors, patterns, phases = np.asarray(colors), np.asarray(patterns), np.asarray(phases)
    for a in range(0, len(garments), RENDER_CHUNK):
        b = a + RENDER_CHUNK
        _render_chunk(garments[a:b], colors[a:b], patterns[a:b], phases[a:b], out[a:b])
    return out


def _render_chunk(garments, colors, patterns, phases, out: np.ndarray) -> None:
    """Render into `out` (N, S, S, 3) uint8, one channel plane at a time (long contiguous
    loops). Per pixel: shade toward the colour's shadow by the garment's own darkness, draw
    the pattern's lines, then blend with the grey background (or outline) by the soft
    silhouette; the background is grey, so its share is computed once for all channels."""
    n, size = len(garments), out.shape[1]
    grey = upsample(garments, size).reshape(n, -1)  # (N, S*S)
    alpha = silhouette(grey)
    peak = np.maximum(grey.max(axis=1), 1e-6)[:, None]
    darkness = 1.0 - np.clip(grey / peak, 0.0, 1.0)  # the garment's own shading

    base_rgb = PALETTE[colors]  # (N, 3)
    targets, depths = shading()
    depth = depths[colors][:, None] * darkness  # (N, S*S)
    toward_shadow = targets[colors] - base_rgb  # (N, 3)
    lines = contrast_color(base_rgb)  # (N, 3)
    on_pattern = _pattern_masks(patterns, phases, size).reshape(n, -1)

    solid = (alpha > 0.5).reshape(n, size, size)
    grown = solid.copy()
    grown[:, 1:] |= solid[:, :-1]
    grown[:, :-1] |= solid[:, 1:]
    grown[:, :, 1:] |= solid[:, :, :-1]
    grown[:, :, :-1] |= solid[:, :, 1:]
    outline = (grown & ~solid).reshape(n, -1)
    background = np.where(outline, OUTLINE[0], BACKGROUND[0]).astype(np.float32)
    background *= 1.0 - alpha

    for channel in range(3):
        plane = toward_shadow[:, channel, None] * depth
        plane += base_rgb[:, channel, None]
        np.copyto(plane, np.broadcast_to(lines[:, channel, None], plane.shape), where=on_pattern)
        plane *= alpha
        plane += background
        np.rint(plane, out=plane)
        np.clip(plane, 0, 255, out=plane)
        out[..., channel] = plane.reshape(n, size, size)

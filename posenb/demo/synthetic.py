"""A synthetic "mouse" in an open-field arena, with exactly known key points.

The figure is an elliptical body with a head, two ears and a tail, moving on a smooth random walk inside a
square arena on a textured floor. Body parts (DLC openfield names): ``snout``, ``leftear``, ``rightear``,
``tailbase`` (plus ``tailtip`` when ``n_bodyparts=5``). Everything is deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DEMO_BODYPARTS",
    "DEMO_SKELETON",
    "simulate_trajectory",
    "body_keypoints",
    "walk_step",
    "render_frame",
    "draw_animal",
    "make_synthetic_video",
]

DEMO_BODYPARTS = ["snout", "leftear", "rightear", "tailbase"]
DEMO_SKELETON = [
    ["snout", "leftear"],
    ["snout", "rightear"],
    ["leftear", "tailbase"],
    ["rightear", "tailbase"],
]


def simulate_trajectory(
    n_frames: int, width: int, height: int, seed: int = 0, body_length: float | None = None
) -> dict:
    """Centre (x, y), heading (rad) and key points of the animal for each frame.

    Returns a dict with ``center`` (n, 2), ``heading`` (n,), ``keypoints`` (n, 4, 2) float64 pixels in
    :data:`DEMO_BODYPARTS` order, and ``body_length`` (px).
    """
    rng = np.random.default_rng(seed)
    L = body_length or 0.22 * min(width, height)
    margin = 0.75 * L + 4
    pos = np.array([width / 2, height / 2], float)
    heading = rng.uniform(0, 2 * np.pi)
    speed = 0.03 * L
    centers, headings = [], []
    bounds = ((margin, margin), (width - margin, height - margin))
    for _ in range(n_frames):
        pos, heading, speed = walk_step(pos, heading, speed, L, bounds, rng, min_speed=0.0)
        centers.append(pos.copy())
        headings.append(heading)
    center = np.array(centers)
    heading = np.array(headings)
    keypoints = body_keypoints(center, heading, L)
    return {"center": center, "heading": heading, "keypoints": keypoints, "body_length": L}


def _turn(heading, pos, target, weight):
    want = np.arctan2(target[1] - pos[1], target[0] - pos[0])
    return heading + weight * np.angle(np.exp(1j * (want - heading)))


def walk_step(pos, heading, speed, L, bounds, rng, target=None, avoid=None, min_speed: float | None = None):
    """One frame of a walking animal of body length ``L``: heading noise, a pull towards ``target`` and away from
    ``avoid`` (points, or None), speed noise within ``[min_speed, 0.09 L]`` (default ``min_speed`` 0.01 L), and the
    walls of ``bounds = ((x0, y0), (x1, y1))`` turn it back towards the centre. Returns ``(pos, heading, speed)``;
    the single-animal demo and the multi-animal one walk with it."""
    (x0, y0), (x1, y1) = bounds
    heading += rng.normal(0, 0.12)
    if target is not None:
        heading = _turn(heading, pos, target, 0.3)
    if avoid is not None:
        heading = _turn(heading, pos, 2 * pos - avoid, 0.25)
    low = 0.01 * L if min_speed is None else min_speed
    speed = np.clip(speed + rng.normal(0, 0.01 * L), low, 0.09 * L)
    nxt = pos + speed * np.array([np.cos(heading), np.sin(heading)])
    if not (x0 < nxt[0] < x1 and y0 < nxt[1] < y1):
        to_center = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) - pos
        heading = np.arctan2(to_center[1], to_center[0]) + rng.normal(0, 0.3)
        nxt = pos + speed * np.array([np.cos(heading), np.sin(heading)])
    return np.clip(nxt, [x0, y0], [x1, y1]), heading, speed


def body_keypoints(center: np.ndarray, heading: np.ndarray, L) -> np.ndarray:
    """``(..., 4, 2)`` key points (:data:`DEMO_BODYPARTS`: snout, left ear, right ear, tail base) of animals of body
    length ``L`` (scalar or per animal) at ``center`` (..., 2) facing ``heading`` (...) radians; the one body of every
    synthetic animal (the demo videos, the multi-animal demo, the tracking tests)."""
    fwd = np.stack([np.cos(heading), np.sin(heading)], -1)
    # image y points down: +side is the animal's right
    side = np.stack([-np.sin(heading), np.cos(heading)], -1)
    L = np.asarray(L, float)[..., None]
    snout = center + fwd * 0.55 * L
    leftear = center + fwd * 0.28 * L - side * 0.16 * L
    rightear = center + fwd * 0.28 * L + side * 0.16 * L
    tailbase = center - fwd * 0.45 * L
    return np.stack([snout, leftear, rightear, tailbase], -2)


def _floor(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1000)
    yy, xx = np.mgrid[0:height, 0:width]
    base = 150 + 25 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + rng.normal(0, 6, (height, width))
    img = np.repeat(base[..., None], 3, axis=2)
    img[..., 2] += 10
    # arena walls
    w = max(2, int(0.02 * min(width, height)))
    img[:w, :] = img[-w:, :] = 60
    img[:, :w] = img[:, -w:] = 60
    return np.clip(img, 0, 255).astype(np.uint8)


def render_frame(background: np.ndarray, center, heading: float, L: float, hidden=()) -> np.ndarray:
    """Draw the animal on a copy of ``background`` ((H, W, 3) uint8) with OpenCV (anti-aliased).

    ``hidden``: names of :data:`DEMO_BODYPARTS` whose marker is not drawn (a part that is not visible).
    """
    img = background.copy()
    draw_animal(img, center, heading, L, hidden)
    return img


def draw_animal(img: np.ndarray, center, heading: float, L: float, hidden=(), shade: float = 1.0) -> None:
    """Draw one animal into ``img`` ((H, W, 3) uint8, changed in place); ``shade`` scales the body's colour
    (another animal's fur: < 1 darker, > 1 lighter)."""
    import cv2

    fwd = np.array([np.cos(heading), np.sin(heading)])
    side = np.array([-np.sin(heading), np.cos(heading)])
    deg = float(np.degrees(heading))
    s = 16  # fixed-point shift for sub-pixel drawing

    def pt(p):
        return (int(round(p[0] * s)), int(round(p[1] * s)))

    def ax(a, b):
        return (int(round(a * s)), int(round(b * s)))

    body = tuple(int(min(255, c * shade)) for c in (70, 62, 58))
    head = tuple(int(min(255, c * shade)) for c in (85, 75, 70))
    tail_end = center - fwd * 1.1 * L + side * 0.1 * L * np.sin(heading * 3)
    cv2.line(
        img, pt(center - fwd * 0.45 * L), pt(tail_end), (90, 80, 80), max(1, int(0.05 * L)), cv2.LINE_AA, 4
    )
    cv2.ellipse(
        img, pt(center - fwd * 0.05 * L), ax(0.42 * L, 0.2 * L), deg, 0, 360, body, -1, cv2.LINE_AA, 4
    )
    cv2.ellipse(
        img, pt(center + fwd * 0.35 * L), ax(0.22 * L, 0.13 * L), deg, 0, 360, head, -1, cv2.LINE_AA, 4
    )
    for name, sign, colour in (("leftear", -1, (230, 150, 160)), ("rightear", 1, (160, 200, 240))):
        ear = center + fwd * 0.28 * L + sign * side * 0.16 * L
        if name not in hidden:
            cv2.circle(img, pt(ear), int(max(1.5, 0.075 * L) * s), colour, -1, cv2.LINE_AA, 4)
    if "snout" not in hidden:
        cv2.circle(
            img, pt(center + fwd * 0.55 * L), int(max(1.5, 0.05 * L) * s), (240, 120, 120), -1, cv2.LINE_AA, 4
        )
    if "tailbase" not in hidden:
        cv2.circle(
            img, pt(center - fwd * 0.45 * L), int(max(1.5, 0.05 * L) * s), (120, 230, 120), -1, cv2.LINE_AA, 4
        )


def make_synthetic_video(
    path, n_frames: int = 300, width: int = 320, height: int = 240, fps: float = 30.0, seed: int = 0
) -> tuple[str, np.ndarray]:
    """Render the synthetic video to ``path`` (H.264 mp4).

    Returns ``(path, keypoints)`` with keypoints ``(n_frames, 4, 2)`` float64 in pixels (:data:`DEMO_BODYPARTS`).
    """
    from posenb.io.video import VideoWriter

    traj = simulate_trajectory(n_frames, width, height, seed)
    bg = _floor(width, height, seed)
    with VideoWriter(path, fps, (width, height), quality=18) as writer:
        for i in range(n_frames):
            writer.write(render_frame(bg, traj["center"][i], traj["heading"][i], traj["body_length"]))
    return str(path), traj["keypoints"]

"""Several synthetic "mice" in one arena (the multi-animal demo), with exactly known key points and identities.

Animal 0 walks the arena at random; the others follow it in bouts (as a courting fly follows its mate), so the
animals come close, touch and cross over each other (the one drawn later lies on top). They look alike except
for size and fur shade: animal 0 is larger and darker, which is what an identity model can learn. Key points
use :data:`~posenb.demo.synthetic.DEMO_BODYPARTS`; an optional fixed scene point (a food pellet) is the
project's unique body part. Everything is deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np

from posenb.demo.synthetic import _floor, body_keypoints, draw_animal, walk_step

__all__ = ["FOOD_PART", "simulate_animals", "render_animals", "make_synthetic_ma_video"]

#: the unique body part of the multi-animal demo (a pellet at a fixed place)
FOOD_PART = "food"


def _lengths(n_animals: int, width: int, height: int) -> np.ndarray:
    base = 0.2 * min(width, height)
    return np.array([1.15 * base] + [0.9 * base] * (n_animals - 1))


def simulate_animals(n_frames: int, width: int, height: int, n_animals: int = 2, seed: int = 0) -> dict:
    """Centres, headings and key points of ``n_animals`` animals for each frame.

    Returns ``center`` (n, A, 2), ``heading`` (n, A), ``keypoints`` (n, A, 4, 2) float64 pixels
    (:data:`DEMO_BODYPARTS` order), ``body_length`` (A,) pixels, ``food`` (2,) the pellet's position.
    Followers chase a point behind animal 0 during bouts of about 40 frames, one bout in two, and otherwise
    mostly keep clear of it: the animals touch and now and then cross.
    """
    rng = np.random.default_rng(seed)
    lengths = _lengths(n_animals, width, height)
    margin = 0.75 * lengths.max() + 4
    bounds = ((margin, margin), (width - margin, height - margin))
    pos = np.stack([rng.uniform(bounds[0], bounds[1]) for _ in range(n_animals)])
    heading = rng.uniform(0, 2 * np.pi, n_animals)
    speed = 0.03 * lengths
    chasing = rng.uniform(0, 1, n_animals) < 0.5
    centers = np.empty((n_frames, n_animals, 2))
    headings = np.empty((n_frames, n_animals))
    for t in range(n_frames):
        for a in range(n_animals):
            if a and rng.uniform() < 1 / 40:
                chasing[a] = not chasing[a]
            target = avoid = None
            if a and chasing[a]:  # aim at the leader's tail
                target = pos[0] - 0.8 * lengths[0] * np.array([np.cos(heading[0]), np.sin(heading[0])])
            elif a and np.linalg.norm(pos[a] - pos[0]) < lengths[0]:
                avoid = pos[0]
            pos[a], heading[a], speed[a] = walk_step(
                pos[a], heading[a], speed[a], lengths[a], bounds, rng, target, avoid
            )
        centers[t], headings[t] = pos, heading
    food = np.array([0.85 * width, 0.15 * height])
    return {
        "center": centers,
        "heading": headings,
        "keypoints": body_keypoints(centers, headings, lengths),
        "body_length": lengths,
        "food": food,
    }


def render_animals(background: np.ndarray, center, heading, lengths, food=None) -> np.ndarray:
    """Draw the animals (``center`` (A, 2), ``heading`` (A,), ``lengths`` (A,)) and the pellet on a copy of
    ``background``; animal 0 first, so the others lie on top where they overlap."""
    import cv2

    img = background.copy()
    if food is not None:
        s = 16
        r = int(max(2.0, 0.02 * min(img.shape[:2])) * s)
        cv2.circle(
            img, (int(round(food[0] * s)), int(round(food[1] * s))), r, (230, 200, 60), -1, cv2.LINE_AA, 4
        )
    for a in range(len(lengths)):
        draw_animal(img, center[a], heading[a], lengths[a], shade=0.75 if a == 0 else 1.35)
    return img


def make_synthetic_ma_video(
    path,
    n_frames: int = 300,
    width: int = 320,
    height: int = 240,
    fps: float = 30.0,
    seed: int = 0,
    n_animals: int = 2,
    food: bool = False,
) -> tuple[str, dict]:
    """Render the multi-animal synthetic video to ``path`` (H.264 mp4); returns ``(path, simulate_animals(...))``
    (``food`` is drawn only when asked)."""
    from posenb.io.video import VideoWriter

    sim = simulate_animals(n_frames, width, height, n_animals, seed)
    bg = _floor(width, height, seed)
    pellet = sim["food"] if food else None
    with VideoWriter(path, fps, (width, height), quality=18) as writer:
        for i in range(n_frames):
            writer.write(render_animals(bg, sim["center"][i], sim["heading"][i], sim["body_length"], pellet))
    return str(path), sim

"""How much the score map's own peak counts in decoding, chosen on the training images when a run ends.

A network trained on Gaussian score maps gives two estimates of each key point below the cell size: the locref
offsets and the peak of a Gaussian of the targets' width fitted to the scores around the maximum
(:func:`posenb.nn.decode`). Their average is better than locref alone where the peak is about as precise
(openfield's human labels: test error 1.76 / 1.57 / 2.12 -> 1.72 / 1.54 / 2.06 px with a quarter on the peak),
worse where it is clearly coarser (mirror-mouse-lp after a short run: 5.46 -> 5.55 px). Which case a model is in
shows on its own training images: there the weight that fits the labels better also did better on the held-out
images of all six models measured (openfield's three shuffles and two synthetic data sets: 0.25; mirror-mouse-lp:
0; benchmarks/RESULTS.md, "Decoding: the score map's own peak").

:func:`choose_peak_weight` runs the trained network once over the training images (at the training scale, whole
images, as evaluation does) and returns the candidate weight with the lowest mean error; training stores it in
the last snapshot's ``model_config`` (:attr:`posenb.nn.PoseModel.peak_weight`) and writes the errors into
``train.log``. A model without Gaussian targets, or without labeled points, keeps locref alone (0).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PEAK_WEIGHTS", "choose_peak_weight"]

#: the weights tried, locref alone first (it wins ties)
PEAK_WEIGHTS = (0.0, 0.25)


def choose_peak_weight(model, dataset, device, batch_size: int = 8) -> tuple[float, dict[float, float]]:
    """The weight of :data:`PEAK_WEIGHTS` with the lowest mean training error, and each one's error.

    Parameters
    ----------
    model : the trained :class:`~posenb.nn.PoseModel` (put in eval mode here).
    dataset : its :class:`~posenb.data.dataset.PoseDataset`: ``network_input(i)`` gives image ``i`` and its key
        points at the network's input scale, ``(H, W, 3)`` uint8 and ``(K, 2)`` px (NaN = unlabeled).
    device : where the model is.

    Returns
    -------
    ``(weight, {weight: mean error in network-input px over the labeled points})``; ``(0.0, {})`` when the model
    has no score-map width or no point is labeled.
    """
    import torch  # noqa: PLC0415

    from posenb.data.targets import keypoints_in_image  # noqa: PLC0415

    if model.heatmap_sigma is None or len(dataset) == 0:
        return 0.0, {}
    by_size: dict[tuple, list[int]] = {}
    items = [dataset.network_input(i) for i in range(len(dataset))]
    for i, (image, _) in enumerate(items):
        by_size.setdefault(image.shape, []).append(i)
    errors: dict[float, list[np.ndarray]] = {w: [] for w in PEAK_WEIGHTS}
    model.eval()
    with torch.inference_mode():
        for idx in by_size.values():
            for start in range(0, len(idx), batch_size):
                chunk = idx[start : start + batch_size]
                x = model.normalize(np.stack([items[i][0] for i in chunk]), device=device)
                out = model(x)
                truth = np.stack([items[i][1] for i in chunk])  # (n, K, 2)
                seen = keypoints_in_image(truth, items[chunk[0]][0].shape[:2])
                for w in PEAK_WEIGHTS:
                    pose = model.decode_outputs(out["heatmap"].float(), out["locref"].float(), peak_weight=w)
                    err = np.linalg.norm(pose[..., :2].cpu().numpy() - truth, axis=-1)
                    errors[w].append(err[seen])
    means = {w: float(np.concatenate(e).mean()) for w, e in errors.items() if sum(len(a) for a in e)}
    if not means:
        return 0.0, {}
    best = min(PEAK_WEIGHTS, key=lambda w: (round(means[w], 6), w))
    return float(best), means

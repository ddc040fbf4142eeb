"""The device a model runs on, for training (``posenb.train``) and analysis (``posenb.infer``) alike."""

from __future__ import annotations

import os

__all__ = ["pick_device"]


def pick_device(gputouse: int | None = None):
    """``torch.device``: CUDA (``gputouse`` index, default 0) when available, else CPU with all cores."""
    import torch  # noqa: PLC0415

    if torch.cuda.is_available():
        return torch.device(f"cuda:{int(gputouse or 0)}")
    torch.set_num_threads(os.cpu_count() or 1)
    return torch.device("cpu")

"""Body-part buttons of the labeling panels (labeler, refiner): one button per part, in the part's colour."""

from __future__ import annotations

from collections.abc import Iterable

import ipywidgets as widgets
import numpy as np

__all__ = ["part_button"]


def part_button(
    rgb: np.ndarray, width: str, css_classes: Iterable[str], description: str = ""
) -> widgets.Button:
    """A ``width`` x 28 px button coloured ``rgb`` (a part's uint8 colour from
    :func:`~posenb.widgets._canvas.part_colors`), with black or white text by the colour's luminance and the
    CSS classes ``css_classes`` (which tests and browser tests select by)."""
    r, g, b = (int(c) for c in rgb)
    button = widgets.Button(description=description, layout=widgets.Layout(width=width, height="28px"))
    for css_class in css_classes:
        button.add_class(css_class)
    button.style.button_color = f"#{r:02x}{g:02x}{b:02x}"
    button.style.text_color = "black" if (0.299 * r + 0.587 * g + 0.114 * b) > 140 else "white"
    return button

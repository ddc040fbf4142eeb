"""The labeler's multi-animal controls: individual buttons, colour and advance modes, copy and swap.

Shown only for multi-animal projects. The controls hold no labels: every click is handed to the panel as
``on_action(action, value)`` with ``action`` one of ``"pick"`` (group index), ``"color"`` (``"individual"`` or
``"bodypart"``), ``"advance"`` (``"next"`` or ``"stay"``), ``"copy"`` (None) and ``"swap"`` (the other group
index); the panel applies the pure functions of :mod:`posenb.widgets.labeler_animals` and calls :meth:`update`.
CSS classes (for tests): ``posenb-individual`` and ``posenb-individual-<name>`` on the buttons,
``posenb-color-mode``, ``posenb-advance``, ``posenb-copy-previous``, ``posenb-swap``, ``posenb-swap-with``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np

from posenb.widgets._parts import part_button
from posenb.widgets.labeler_layout import SlotLayout

__all__ = ["IndividualControls", "css_name"]


def css_name(name: str) -> str:
    """A name made safe for a CSS class."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


class IndividualControls(widgets.VBox):
    """Individual buttons (keys: Tab / ``i`` next, Shift-Tab / ``I`` previous), colour and advance modes, Copy
    previous (``c``) and Swap (``x``); see the module docstring."""

    def __init__(self, on_action: Callable[[str, object], None]):
        super().__init__(layout=widgets.Layout(display="none"))
        self.add_class("posenb-individuals")
        self._on_action = on_action
        self.layout_: SlotLayout | None = None
        self.buttons: list[widgets.Button] = []
        self._desc: list[str | None] = []
        self.button_box = widgets.VBox()
        self.color_mode = widgets.ToggleButtons(
            options=[("individual", "individual"), ("part", "bodypart")],
            value="individual",
            tooltips=[
                "One colour per individual",
                "One colour per body part (bones in the individual's colour)",
            ],
            style={"button_width": "64px"},
        )
        self.color_mode.add_class("posenb-color-mode")
        self.advance = widgets.ToggleButtons(
            options=[("next", "next"), ("stay", "stay")],
            value="next",
            tooltips=[
                "After an individual's last part, go on with the next individual",
                "Stay on the individual",
            ],
            style={"button_width": "64px"},
        )
        self.advance.add_class("posenb-advance")
        self.copy_button = widgets.Button(
            description="Copy previous", tooltip="c: copy the previous labeled image's animals", icon="copy"
        )
        self.copy_button.add_class("posenb-copy-previous")
        self.copy_button.layout.width = "180px"
        self.swap_button = widgets.Button(description="Swap with", tooltip="x: swap with the next individual")
        self.swap_button.add_class("posenb-swap")
        self.swap_button.layout.width = "86px"
        self.swap_with = widgets.Dropdown(layout=widgets.Layout(width="92px"))
        self.swap_with.add_class("posenb-swap-with")
        self.color_mode.observe(lambda ch: self._on_action("color", ch["new"]), names="value")
        self.advance.observe(lambda ch: self._on_action("advance", ch["new"]), names="value")
        self.copy_button.on_click(lambda _: self._on_action("copy", None))
        self.swap_button.on_click(lambda _: self._swap())
        self.children = [
            widgets.HTML("<b>Individuals</b>"),
            self.button_box,
            widgets.HTML("After an individual's last part:"),
            self.advance,
            widgets.HTML("Colours per:"),
            self.color_mode,
            self.copy_button,
            widgets.HBox([self.swap_button, self.swap_with]),
        ]

    def _swap(self) -> None:
        if self.swap_with.value is not None:
            self._on_action("swap", int(self.swap_with.value))

    def set_layout(self, layout: SlotLayout, colors: np.ndarray) -> None:
        """Build the buttons of ``layout``'s individuals (``colors``: ``(n_groups, 3)`` uint8); hidden for a
        single-animal layout."""
        self.layout_ = layout
        self.layout.display = None if layout.multianimal else "none"
        if not layout.multianimal:
            self.buttons, self._desc, self.button_box.children = [], [], ()
            return
        buttons = []
        for g, name in enumerate(layout.groups):
            b = part_button(colors[g], "180px", ["posenb-individual", f"posenb-individual-{css_name(name)}"])
            b.on_click(lambda _b, g=g: self._on_action("pick", g))
            buttons.append(b)
        self.buttons, self._desc = buttons, [None] * len(buttons)
        self.button_box.children = buttons

    def update(self, group: int, counts: np.ndarray) -> None:
        """Mark individual ``group`` current; ``counts``: ``(n_groups,)`` labeled parts of each on this image."""
        layout = self.layout_
        if layout is None or not layout.multianimal:
            return
        for g, b in enumerate(self.buttons):
            n = len(layout.group_slots(g))
            desc = f"{'▶ ' if g == group else ''}{layout.groups[g]} ({int(counts[g])}/{n})"
            if self._desc[g] != desc:
                self._desc[g] = desc
                with b.hold_sync():
                    b.description = desc
                    b.style.font_weight = "bold" if g == group else "normal"
        others = [(name, i) for i, name in enumerate(layout.individuals) if i != group]
        if group < len(layout.individuals) and list(self.swap_with.options) != others:
            self.swap_with.options = others
            self.swap_with.value = others[0][1] if others else None
        disabled = group >= len(layout.individuals)  # "single": nothing to swap
        self.swap_button.disabled = self.swap_with.disabled = disabled

"""The labeler's side panel: individual controls, body-part buttons and suggestions (a mixin of
:class:`posenb.widgets.labeler.Labeler`).

The part buttons show the current individual's parts (every part in a single-animal project), in the slot colours
(:func:`posenb.widgets.labeler_layout.slot_colors`: per individual or per body part). Suggestions (the model's
guesses, or points carried forward) are asked from :class:`posenb.infer.suggest.LabelSuggester`; in a
multi-animal project they fill every individual's slots (and the unique parts'). Every change goes through the panel's ``_apply`` with a pure function of
:mod:`posenb.widgets.labeler_state`.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from posenb.errors import PosenbError
from posenb.widgets._individuals import IndividualControls, css_name
from posenb.widgets._labeler_update import ModelUpdate
from posenb.widgets._parts import part_button
from posenb.widgets.labeler_state import (
    accept_suggestions,
    copy_previous_animals,
    group_index,
    select_individual,
    select_part,
    set_advance,
    set_suggestions,
    shown_suggestions,
    skip_part,
    slot_colors,
    swap_individuals,
)

__all__ = ["SidePanel", "side_button"]


def side_button(css_class: str, width: str, **kwargs) -> widgets.Button:
    """A ``width`` wide button with the CSS class ``css_class`` (which tests and browser tests select by)."""
    button = widgets.Button(layout=widgets.Layout(width=width), **kwargs)
    button.add_class(css_class)
    return button


class SidePanel(ModelUpdate):
    """Mixin: the side panel's widgets and handlers (with the "Update model" button of
    :class:`~posenb.widgets._labeler_update.ModelUpdate`) (the host provides ``state``, ``cfg``, ``_apply``,
    ``_set_message``, ``_redraw_points``, ``_update_status``, ``labels``, ``config_path``, ``add_bodypart``)."""

    def _make_side(self) -> widgets.VBox:
        """Create the side panel's widgets; returns the box that shows them."""
        self.colors = np.zeros((0, 3), np.uint8)  # (n_slots, 3) uint8
        self.color_by = "individual"  # multi-animal projects: "individual" or "bodypart"
        self.animals = IndividualControls(self._on_animal_action)
        self.suggester = None  # posenb.infer.suggest.LabelSuggester, made at the first suggestion
        self._suggested: set[int] = set()  # images of the open folder already asked for suggestions
        self._suggest_source: dict[int, str] = {}  # image -> "model" or "carried"
        self.part_box = widgets.VBox(layout=widgets.Layout(width="190px"))
        self.part_buttons: list[widgets.Button] = []
        self.skip_button = side_button(
            "posenb-skip", "180px", description="Skip part (not visible)", tooltip="Space"
        )
        self.new_part_text = widgets.Text(placeholder="new body part", layout=widgets.Layout(width="120px"))
        self.new_part_text.add_class("posenb-add-bodypart-name")
        self.new_part_button = side_button("posenb-add-bodypart", "55px", description="Add")
        self.suggest_toggle = widgets.Checkbox(
            value=True,
            description="Suggestions",
            indent=False,
            tooltip="Show the model's guesses (or points carried from a nearby labeled frame) as hollow circles",
            layout=widgets.Layout(width="180px"),
        )
        self.suggest_toggle.add_class("posenb-suggest-toggle")
        self.accept_button = side_button(
            "posenb-accept-suggestions", "180px", description="Accept suggestions", tooltip="Enter"
        )
        self.skip_button.on_click(lambda _: self._apply(skip_part(self.state)) if self.state else None)
        self.new_part_button.on_click(lambda _: self.add_bodypart(self.new_part_text.value))
        self.accept_button.on_click(
            lambda _: self._apply(accept_suggestions(self.state)) if self.state else None
        )
        self.suggest_toggle.observe(lambda _: self._on_suggest_toggle(), names="value")
        self.add_part_box = widgets.HBox([self.new_part_text, self.new_part_button])
        return widgets.VBox(
            [
                self.animals,
                widgets.HTML("<b>Body parts</b>"),
                self.part_box,
                self.skip_button,
                self.suggest_toggle,
                self.accept_button,
                self._make_update_controls(),
                self.add_part_box,
            ],
            layout=widgets.Layout(margin="0 0 0 8px"),
        )

    def select_individual(self, name_or_index) -> None:
        """Make an individual (name or index; ``"single"``: the unique parts) current (multi-animal projects)."""
        self._apply(select_individual(self.state, group_index(self.state, name_or_index)))

    def swap_individuals(self, a, b) -> None:
        """Exchange two individuals' points (names or indices) on the current image (one undo step)."""
        self._apply(swap_individuals(self.state, group_index(self.state, a), group_index(self.state, b)))

    def copy_previous(self) -> None:
        """Copy the previous labeled image's animals into the current image's unlabeled parts (one undo step)."""
        self._apply(copy_previous_animals(self.state))

    def set_color_mode(self, mode: str) -> None:
        """Colour points per ``"individual"`` or per ``"bodypart"`` (multi-animal projects)."""
        self.animals.color_mode.value = mode  # observed: recolours

    def suggest(self) -> bool:
        """Ask the core for suggestions on the current image (once per image); True when some are shown.

        Suggestions come from :class:`posenb.infer.suggest.LabelSuggester`: the newest model (the labeling model
        that "Update model" trains on every label, or shuffle 1's snapshot) when there is one (multi-animal
        projects: its animals, one per individual, and the unique parts), else (single-animal projects) the points
        of a labeled frame up to 30 video frames before, carried by optical flow.
        """
        s = self.state
        if s is None or not s.images or not self.suggest_toggle.value or s.frame in self._suggested:
            return False
        if not np.isnan(s.current_points[:, 0]).any():
            return False
        self._suggested.add(s.frame)
        try:
            if self.suggester is None:
                from posenb.infer.suggest import LabelSuggester  # noqa: PLC0415

                self.suggester = LabelSuggester(self.config_path)
            labeled = {
                str(self.labels.folder / name): s.points[i]
                for i, name in enumerate(s.images)
                if i != s.frame and not np.isnan(s.points[i, :, 0]).all()
            }
            got = self.suggester.suggest(self.labels.folder / s.images[s.frame], labeled)
        except (PosenbError, OSError, ValueError) as exc:
            self._set_message(f"No suggestions: {exc}", "warn")
            return False
        if got is None:
            return False
        xy, source = got
        self.state = set_suggestions(self.state, s.frame, xy[:, :2])
        self._suggest_source[s.frame] = source
        return bool((~np.isnan(shown_suggestions(self.state)[:, 0])).any())

    def _on_suggest_toggle(self) -> None:
        if self.suggest_toggle.value:
            self.suggest()
        self._redraw_points()
        self._update_status()

    def _colormap(self) -> str:
        return (self.cfg.get("colormap") if self.cfg else None) or "rainbow"

    def _recolor(self) -> None:
        """Slot colours (per individual or per part) and the part buttons that show them."""
        self.colors = slot_colors(self.state.slots, self.color_by, self._colormap())
        self._build_part_buttons()

    def _on_animal_action(self, action: str, value) -> None:
        if self.state is None:
            return
        if action == "pick":
            self._apply(select_individual(self.state, int(value)))
        elif action == "swap":
            self._apply(swap_individuals(self.state, self.state.group, int(value)))
        elif action == "copy":
            self._apply(copy_previous_animals(self.state))
        elif action == "advance":
            self._apply(set_advance(self.state, value))
        elif action == "color":
            self.color_by = value
            self._recolor()
            self._redraw_points()

    def _build_part_buttons(self) -> None:
        layout = self.state.slots
        buttons = []
        for i, name in enumerate(layout.slot_part):
            classes = ["posenb-bodypart", f"posenb-bodypart-{css_name(name)}", f"posenb-slot-{i}"]
            b = part_button(self.colors[i], "180px", classes)
            b.on_click(lambda _b, i=i: self._apply(select_part(self.state, i)))
            buttons.append(b)
        self.part_buttons = buttons
        self._part_desc = [None] * len(buttons)
        self._part_group = None
        self._update_part_buttons()

    def _update_part_buttons(self) -> None:
        """Show the current individual's part buttons (all parts for one animal), marking current and done."""
        s = self.state
        if s is None or not self.part_buttons:
            self.part_box.children = self.part_buttons
            return
        layout = s.slots
        slots = layout.group_slots(s.group)
        if self._part_group != s.group:
            self._part_group = s.group
            self.part_box.children = self.part_buttons[slots.start : slots.stop]
        pts = s.current_points if s.images else np.full((len(s.bodyparts), 2), np.nan)
        for k, i in enumerate(slots):
            b = self.part_buttons[i]
            key = k + 1 if k < 9 else (0 if k == 9 else None)
            cur = s.part == i
            done = not np.isnan(pts[i, 0])
            desc = f"{'▶ ' if cur else ''}{'' if key is None else f'{key}. '}{layout.slot_part[i]}{' ✓' if done else ''}"
            if self._part_desc[i] != desc:
                self._part_desc[i] = desc
                with b.hold_sync():
                    b.description = desc
                    b.style.font_weight = "bold" if cur else "normal"
        if layout.multianimal:
            done = ~np.isnan(pts[:, 0])
            counts = np.array([done[layout.group_slots(g)].sum() for g in range(len(layout.groups))])
            self.animals.update(s.group, counts)

    def _suggestion_status(self) -> str:
        s = self.state
        if not self.suggest_toggle.value or s.frame not in self._suggest_source:
            return ""
        n = int((~np.isnan(shown_suggestions(s)[:, 0])).sum())
        if not n:
            return ""
        if self._suggest_source[s.frame] != "model":
            return f" · {n} suggested (carried from a nearby labeled frame): Enter accepts all"
        which = f" — {self.suggester.describe()}" if self.suggester is not None else ""
        return f" · {n} suggested (model){which}: Enter accepts all"

"""The controls and layout of :class:`posenb.widgets.track_proofreader.TrackProofreader` (a mixin: the actions
the buttons call -- ``next_suspicious``, ``swap``, ``save``, ... -- are the panel's).

CSS classes (for browser tests): ``posenb-proofread-<name>`` on every button (``prev-suspicious``,
``next-suspicious``, ``prev-frame``, ``next-frame``, ``swap``, ``swap-end``, ``cut``, ``join``, ``delete``,
``undo``, ``redo``, ``save``, ``send``), on the individual pickers (``ind-a``, ``ind-b``), the frame box
(``frame``), the swap's "until frame" field (``swap-to``), the info line (``info``), the timeline canvas
(``timeline``) and the frame canvas (``canvas``). :func:`swap_stop` reads the "until frame" field.
"""

from __future__ import annotations

import ipywidgets as widgets

__all__ = ["ProofreaderLayout", "BUTTONS", "HELP", "swap_stop"]

# (attribute suffix, label, icon, tooltip, method called)
BUTTONS = [
    ("prev_suspicious", "Prev suspicious", "step-backward", "p: the previous suspicious frame", "prev_suspicious"),
    ("next_suspicious", "Next suspicious", "step-forward", "n: the next suspicious frame", "next_suspicious"),
    ("swap", "Swap A/B from here", "exchange",
     "s: swap the identities of A and B from this frame to the 'until' frame (empty: to the end)", "swap"),
    ("swap_end", "Until next suspicious", "flag-checkered",
     "e: the swap stops at the next suspicious frame of A or B (of the kind picked: swap, gap, ...)", "swap_until_next"),
    ("cut", "Cut A here", "scissors", "c: A's segment from this frame on moves to a free track", "cut"),
    ("join", "Join A into B", "compress", "j: A's segment under the cursor moves into B (B empty there)", "join"),
    ("delete", "Delete A's segment", "trash", "Delete A's points on its segment under the cursor", "delete_segment"),
    ("undo", "Undo", "undo", "Ctrl-Z", "undo"),
    ("redo", "Redo", "repeat", "Ctrl-Y", "redo"),
    ("save", "Save", "save", "Write the tracked file (the previous one kept as .bak)", "save"),
    ("send", "Edited frames to training set", "graduation-cap",
     "Extract the edited frames into labeled-data with their corrected points as human labels", "send_frames"),
]  # fmt: skip

HELP = (
    "Timeline: one row per individual; filled = tracked, empty = gap, lower band = low confidence, ticks = "
    "suspicious frames (red swap, orange jump, purple close, brown confidence, grey gap). <b>Click</b> it to jump "
    "(and pick A by its row), wheel zooms it. On the frame: <b>drag</b> a point to fix it, <b>Alt-click</b> places A's chosen part, "
    "<b>right-click</b> deletes a point, wheel "
    "zooms, drag pans, 0 fits. <b>Swap</b> exchanges A and B from the current frame up to (not including) the "
    "<i>until</i> frame, or to the end when it is empty. Keys (pointer on the frame): &larr;/&rarr; frame, "
    "n/p next/previous suspicious, s swap, e until the next suspicious frame of A or B, c cut, j join, "
    "Ctrl-Z undo, Ctrl-Y redo."
)


class ProofreaderLayout:
    """Builds the panel's widgets (``_build``)."""

    def _build(self, shuffle: int) -> None:
        self.video_select = widgets.Dropdown(
            description="Video", options=[], layout=widgets.Layout(width="360px")
        )
        self.video_select.add_class("posenb-proofread-video")
        self.shuffle = widgets.BoundedIntText(
            value=shuffle, min=1, max=10_000, description="Shuffle", layout=widgets.Layout(width="150px")
        )
        self.pcutoff = widgets.FloatSlider(
            value=0.6, min=0.0, max=1.0, step=0.01, description="p-cutoff", continuous_update=False
        )
        self.kinds = widgets.Dropdown(
            description="Suspicious",
            options=[("all", None), ("swap", "swap"), ("jump", "jump"), ("close", "close"),
                     ("confidence", "confidence"), ("gap", "gap")],
            value=None,
            layout=widgets.Layout(width="200px"),
        )  # fmt: skip
        self.kinds.add_class("posenb-proofread-kinds")
        self.frame = widgets.BoundedIntText(
            value=0, min=0, max=0, description="Frame", layout=widgets.Layout(width="170px")
        )
        self.frame.add_class("posenb-proofread-frame")
        self.prev_frame_button = widgets.Button(
            icon="arrow-left", tooltip="previous frame", layout=widgets.Layout(width="40px")
        )
        self.next_frame_button = widgets.Button(
            icon="arrow-right", tooltip="next frame", layout=widgets.Layout(width="40px")
        )
        self.prev_frame_button.add_class("posenb-proofread-prev-frame")
        self.next_frame_button.add_class("posenb-proofread-next-frame")
        self.ind_a = widgets.Dropdown(description="A", options=[], layout=widgets.Layout(width="170px"))
        self.ind_b = widgets.Dropdown(description="B", options=[], layout=widgets.Layout(width="170px"))
        self.swap_to = widgets.Text(
            value="", placeholder="end", description="until", layout=widgets.Layout(width="120px"),
            style={"description_width": "initial"},
            tooltip="The swap stops before this frame (the first frame whose identities are right); empty: the end",
        )  # fmt: skip
        self.swap_to.add_class("posenb-proofread-swap-to")
        self.part = widgets.Dropdown(
            description="Part", options=[], layout=widgets.Layout(width="190px"),
            tooltip="Alt-click on the frame places this part of A",
        )  # fmt: skip
        self.part.add_class("posenb-proofread-part")
        self.ind_a.add_class("posenb-proofread-ind-a")
        self.ind_b.add_class("posenb-proofread-ind-b")
        self.buttons: dict[str, widgets.Button] = {}
        for key, label, icon, tooltip, _ in BUTTONS:
            b = widgets.Button(
                description=label, icon=icon, tooltip=tooltip, layout=widgets.Layout(width="auto")
            )
            b.add_class(f"posenb-proofread-{key.replace('_', '-')}")
            self.buttons[key] = b
        self.buttons["save"].button_style = "primary"
        self.canvas_box = widgets.Box()
        self.timeline_box = widgets.Box(layout=widgets.Layout(overflow="auto"))
        self.info = widgets.HTML()
        self.info.add_class("posenb-proofread-info")
        self.status = widgets.HTML()
        self.status.add_class("posenb-status")
        self.status.add_class("posenb-proofread-status")
        self._connect()
        self._lay_out()

    def _connect(self) -> None:
        self.video_select.observe(self._on_video, "value")
        self.shuffle.observe(lambda _c: self.load(), "value")
        self.pcutoff.observe(lambda _c: self._recompute(), "value")
        self.frame.observe(self._on_frame, "value")
        self.swap_to.observe(lambda _c: self._redraw_timeline(cursor_only=True), "value")
        self.ind_a.observe(self._on_individual, "value")
        self.ind_b.observe(self._on_individual, "value")
        self.prev_frame_button.on_click(lambda _b: self.go_to(self.frame.value - 1))
        self.next_frame_button.on_click(lambda _b: self.go_to(self.frame.value + 1))
        for key, _, _, _, method in BUTTONS:
            self.buttons[key].on_click(lambda _b, m=method: getattr(self, m)())

    def _lay_out(self) -> None:
        b = self.buttons
        row = widgets.Layout(flex_flow="row wrap", align_items="center")
        self.children = [
            widgets.HBox([self.video_select, self.shuffle, self.pcutoff], layout=row),
            widgets.HBox(
                [
                    self.prev_frame_button,
                    self.frame,
                    self.next_frame_button,
                    self.kinds,
                    b["prev_suspicious"],
                    b["next_suspicious"],
                ],
                layout=row,
            ),  # fmt: skip
            self.timeline_box,
            widgets.HBox(
                [
                    self.ind_a,
                    self.ind_b,
                    b["swap"],
                    self.swap_to,
                    b["swap_end"],
                    b["cut"],
                    b["join"],
                    b["delete"],
                ],
                layout=row,
            ),
            widgets.HBox([self.part, b["undo"], b["redo"], b["save"], b["send"]], layout=row),
            self.info,
            self.canvas_box,
            self.status,
            widgets.HTML(f"<small>{HELP}</small>"),
        ]


def swap_stop(text: str) -> int | None:
    """The "until frame" field -> the swap's ``stop`` (exclusive frame index), None when empty (or "end"): to
    the end. ValueError for anything else."""
    text = (text or "").strip()
    if text.lower() in ("", "end"):
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(
            f"'until' must be a frame number (the first frame not swapped) or empty for the end, not {text!r}."
        ) from None

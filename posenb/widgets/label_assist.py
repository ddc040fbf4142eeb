"""``LabelAssistView``: which frames to label next, and likely labeling mistakes, each with a jump to the labeler.

The panel only asks and shows: :func:`posenb.infer.suggest.suggest_frames` ranks (and extracts) frames,
:func:`posenb.infer.label_quality.check_label_quality` lists suspicious labels. Nothing is changed in the labels:
"Open in labeler" hands the image to the app (``on_open_image``), where the user decides.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from posenb.widgets._actions import ActionRunner
from posenb.widgets._panel import Panel

__all__ = ["LabelAssistView", "FrameRanking", "table_html"]

_RANK_COLUMNS = ["rank", "video", "frame", "score", "uncertainty", "flip_px", "novelty", "extracted"]


def table_html(df: pd.DataFrame, columns: list[str], max_rows: int = 30) -> str:
    """A small HTML table of ``df[columns]`` (those present), floats with 2 decimals, text escaped."""
    cols = [c for c in columns if c in df.columns]
    head = "".join(f"<th style='padding:2px 8px;text-align:left'>{html.escape(c)}</th>" for c in cols)
    rows = []
    for _, row in df.head(max_rows).iterrows():
        cells = []
        for c in cols:
            v = row[c]
            text = f"{v:.2f}" if isinstance(v, float) else str(v)
            if c == "video":
                text = text.rsplit("/", 1)[-1]
            cells.append(f"<td style='padding:2px 8px'>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<div><i>{len(df) - max_rows} more rows not shown</i></div>" if len(df) > max_rows else ""
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{more}"


class FrameRanking(Panel):
    """Which frames to label next: rank, extract and list them (core: ``posenb.infer.suggest.suggest_frames``).

    Shown in the Extract frames tab and in the Label QC tab. ``on_extracted(callback)``: ``callback(table)`` after
    frames were extracted (the frame grabber refreshes its list).
    """

    def __init__(self, config: str | None = None):
        super().__init__()
        self.add_class("posenb-frame-ranking-panel")
        self.ranking: pd.DataFrame | None = None
        self._extracted_callbacks = []
        self.n_frames = widgets.BoundedIntText(
            value=10, min=1, max=500, description="Frames", layout=widgets.Layout(width="160px")
        )
        self.method = widgets.Dropdown(
            options=[
                ("combined (model + diversity)", "combined"),
                ("model uncertainty", "uncertainty"),
                ("mirror disagreement", "flip"),
                ("diversity (no model needed)", "diversity"),
            ],
            value="combined",
            description="Rank by",
            layout=widgets.Layout(width="340px"),
        )
        self.suggest_button = widgets.Button(
            description="Suggest frames to label", icon="lightbulb-o", layout=widgets.Layout(width="220px")
        )
        self.suggest_button.add_class("posenb-suggest-frames")
        self.ranking_html = widgets.HTML()
        self.ranking_html.add_class("posenb-frame-ranking")
        self.status = widgets.HTML()
        self.runner = ActionRunner(self._set_status, [self.suggest_button], "posenb-frame-ranking")
        self.suggest_button.on_click(lambda _: self.suggest_frames())
        self.children = [
            widgets.HTML(
                "Ranked by the model's uncertainty, its disagreement with itself on the mirrored frame, "
                "and how new the frame looks next to those already labeled; the best are extracted."
            ),
            widgets.HBox([self.n_frames, self.method, self.suggest_button]),
            self.ranking_html,
            self.status,
        ]
        if config is not None:
            self.set_config(config)

    def set_config(self, config: str) -> None:
        self.config = str(config)
        self.ranking = None
        self.ranking_html.value = ""
        self._set_status("")

    def on_extracted(self, callback) -> None:
        self._extracted_callbacks.append(callback)

    def suggest_frames(self, background: bool = True) -> None:
        """Rank and extract frames; the table lists the picks."""
        if self.config is None:
            self._set_status("Open a project first (Project tab).", "warning")
            return
        from posenb.infer.suggest import suggest_frames  # noqa: PLC0415

        n, method = int(self.n_frames.value), self.method.value

        def after(table):
            self.ranking = table
            picks = table[table["rank"] > 0]
            self.ranking_html.value = table_html(picks, _RANK_COLUMNS)
            self._set_status(
                f"{int(picks['extracted'].sum())} frame(s) extracted into labeled-data: label them in the Label tab.",
                "ok",
            )
            for cb in self._extracted_callbacks:
                cb(table)

        self.runner.run(
            "Ranking frames", lambda: suggest_frames(self.config, n=n, method=method), after, background
        )


class LabelAssistView(Panel):
    """Frames to label next (ranked by the model and by diversity) and a label-quality check.

    Parameters
    ----------
    config : path of the project's config.yaml (None: call :meth:`set_config` later).
    """

    def __init__(self, config: str | None = None):
        super().__init__()
        self.add_class("posenb-label-assist")
        self.issues: pd.DataFrame | None = None
        self._open_callbacks = []

        self.frames = FrameRanking()

        self.check_button = widgets.Button(
            description="Check label quality", icon="check-square-o", layout=widgets.Layout(width="220px")
        )
        self.check_button.add_class("posenb-check-quality")
        self.issue_select = widgets.Select(options=[], rows=8, layout=widgets.Layout(width="760px"))
        self.issue_select.add_class("posenb-quality-issues")
        self.open_button = widgets.Button(
            description="Open in labeler", icon="external-link", layout=widgets.Layout(width="160px")
        )
        self.open_button.add_class("posenb-open-issue")
        self.status = widgets.HTML()
        self.status.add_class("posenb-label-assist-status")
        self.runner = ActionRunner(self._set_status, [self.check_button], "posenb-label-assist")

        self.check_button.on_click(lambda _: self.check_quality())
        self.open_button.on_click(lambda _: self.open_selected())
        self.children = [
            widgets.HTML("<b>Which frames to label next</b>"),
            self.frames,
            widgets.HTML(
                "<b>Label quality</b> — likely mistakes (swapped left/right parts, points far from the "
                "skeleton's usual lengths or from a confident model, two parts on one spot, a part placed "
                "on another animal). Nothing is changed: open the image and decide."
            ),
            self.check_button,
            self.issue_select,
            self.open_button,
            self.status,
        ]
        if config is not None:
            self.set_config(config)

    def set_config(self, config: str) -> None:
        self.config = str(config)
        self.frames.set_config(config)
        self.issues = None
        self.issue_select.options = []
        self._set_status("")

    def on_open_image(self, callback) -> None:
        """``callback(image, part)`` when the user opens an issue: ``image`` = ``labeled-data/<video>/<png>``,
        ``part`` = the first body part it names (``"<individual> <part>"`` in a multi-animal project)."""
        self._open_callbacks.append(callback)

    def _need_config(self) -> bool:
        if self.config is None:
            self._set_status("Open a project first (Project tab).", "warning")
            return False
        return True

    def check_quality(self, background: bool = True) -> None:
        """List likely mistakes (core: ``posenb.infer.label_quality.check_label_quality``)."""
        if not self._need_config():
            return
        from posenb.infer.label_quality import check_label_quality  # noqa: PLC0415

        def after(table):
            self.issues = table
            self.issue_select.options = [
                (f"{row.image} · {row.kind} · {row.message}", i) for i, row in enumerate(table.itertuples())
            ]
            if len(table):
                self.issue_select.value = 0
                self._set_status(
                    f"{len(table)} possible mistake(s): select one and open it in the labeler.", "warning"
                )
            else:
                self._set_status("No likely labeling mistake found.", "ok")

        self.runner.run("Checking labels", lambda: check_label_quality(self.config), after, background)

    def open_selected(self) -> str | None:
        """Hand the selected issue's image to the listeners (the app opens it in the Label tab)."""
        if self.issues is None or self.issue_select.value is None:
            self._set_status("Check label quality first, then select an issue.", "warning")
            return None
        row = self.issues.iloc[int(self.issue_select.value)]
        image, part = str(row["image"]), str(row["bodyparts"]).split(",")[0]
        if not self._open_callbacks:
            self._set_status(f"Open {image} in the labeler (posenb.label_frames), part {part}.", "info")
        for cb in self._open_callbacks:
            cb(image, part)
        return image

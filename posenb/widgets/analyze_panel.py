"""``AnalyzePanel``: the "Analyze videos" tab: ``posenb.analyze_videos`` from the dashboard.

Pick a trained shuffle, the project's videos and/or videos and folders on the server (through the confined file
browser, :mod:`posenb.widgets._file_browser`), then "Analyze videos": a background thread calls
``analyze_videos`` once per video, a progress bar counts the videos, and the table lists each video's
prediction file (or why it failed; the other videos go on). On a multi-animal project the animals are tracked
over time (``auto_track``, ``n_tracks`` animals: the tracked ``<video>DLC_<scorer>_el.h5``), or, with tracking
off, only the per-frame animals are written (``_detections.h5``). On a single-animal project the "Run" choice
trades speed for accuracy (:data:`RUN_MODES`, :mod:`posenb.widgets._run_modes`, shared with the evaluation view):
the model's own settings, more accurate (test-time scales, see :mod:`posenb.infer.multiscale`) or faster (bfloat16
on CPUs with native bfloat16). Listeners registered with ``on_project`` are told afterwards, so the "Analyze &
review" tab finds the new predictions.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import ipywidgets as widgets

from posenb.errors import PosenbError
from posenb.widgets._actions import ActionRunner
from posenb.widgets._file_browser import FileBrowser, check_path
from posenb.widgets._panel import Panel
from posenb.widgets._run_modes import RUN_MODES, run_mode_options

__all__ = ["AnalyzePanel", "RUN_MODES"]


class AnalyzePanel(Panel):
    """Analyze videos with a trained shuffle and list the results.

    ``results`` (after a run) is a list of ``(video, h5 path or None, message)``.
    """

    def __init__(self, config: str | os.PathLike | None = None):
        super().__init__()
        self.add_class("posenb-analyze-panel")
        self.cfg: dict = {}
        self.results: list[tuple[str, str | None, str]] = []
        L = widgets.Layout
        self.shuffle_select = widgets.Dropdown(description="Model", options=[], layout=L(width="520px"))
        self.shuffle_select.style.description_width = "60px"
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Rescan the trained shuffles and the project's videos", layout=L(width="40px")
        )
        self.videos = widgets.SelectMultiple(
            options=[], rows=6, description="Videos", layout=L(width="720px")
        )
        self.videos.style.description_width = "60px"
        self.browser = FileBrowser(pick_label="Add to the list", css_prefix="posenb-analyze-browser")
        self.browser.on_pick(self.add_videos)
        self.csv_check = widgets.Checkbox(value=True, description="Also write .csv files", indent=False)
        # multi-animal projects only (hidden otherwise): analyze_videos(auto_track=..., n_tracks=...)
        self.track_check = widgets.Checkbox(
            value=True, description="Track the animals over time (auto_track)", indent=False
        )
        self.n_tracks = widgets.BoundedIntText(
            value=1, min=1, max=1000, description="Animals", layout=L(width="150px"),
            tooltip="n_tracks: how many animals to track (default: the project's individuals)",
        )  # fmt: skip
        self.track_box = widgets.HBox([self.track_check, self.n_tracks], layout=L(display="none"))
        # single-animal projects only (hidden otherwise: multi-animal analysis runs one pass in float32)
        self.run_mode = widgets.Dropdown(
            options=run_mode_options(), value="model",
            description="Run", layout=L(width="720px"),
        )  # fmt: skip
        self.run_mode.style.description_width = "60px"
        self.analyze_button = widgets.Button(
            description="Analyze videos", icon="play", button_style="primary", layout=L(width="170px")
        )
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=L(width="300px"))
        self.progress_text = widgets.HTML()
        self.status = widgets.HTML()
        self.table = widgets.HTML()
        for w, cls in (
            (self.shuffle_select, "shuffle"),
            (self.videos, "videos"),
            (self.csv_check, "csv"),
            (self.track_check, "track"),
            (self.n_tracks, "n-tracks"),
            (self.run_mode, "run-mode"),
            (self.analyze_button, "run"),
            (self.progress, "progress"),
            (self.progress_text, "progress-text"),
            (self.table, "results"),
        ):
            w.add_class(f"posenb-analyze-{cls}")
        self.status.add_class("posenb-status")
        self._actions = ActionRunner(self._set_status, (self.analyze_button,), name="posenb-analyze")
        self.refresh_button.on_click(lambda _b: self.rescan())
        self.analyze_button.on_click(lambda _b: self.analyze())
        hint = widgets.HTML(
            "<small>Select the videos to analyze (Ctrl/Shift-click for several). Predictions are written next to "
            "each video (<code>&lt;video&gt;DLC_…h5</code>); videos already analyzed by this model are skipped.</small>"
        )
        self.children = [
            widgets.HBox([self.shuffle_select, self.refresh_button]),
            self.videos,
            hint,
            widgets.Accordion(children=[self.browser], titles=("Add videos or folders from the server",)),
            self.run_mode,
            widgets.HBox([self.analyze_button, self.csv_check]),
            self.track_box,
            widgets.HBox([self.progress, self.progress_text]),
            self.status,
            self.table,
        ]
        if config is not None:
            self.set_config(config)
        else:
            self._set_status("Open a project first (Project tab).", "warning")

    # ------------------------------------------------------------------ project
    def set_config(self, config: str | os.PathLike) -> None:
        from posenb.project.config import project_parts

        self.load_config(config)
        parts = project_parts(self.cfg)
        self.track_box.layout.display = None if parts.multianimal else "none"
        self.run_mode.layout.display = "none" if parts.multianimal else None
        if parts.multianimal:
            self.run_mode.value = "model"
        self.n_tracks.value = max(1, len(parts.individuals)) if parts.multianimal else 1
        self.rescan()

    def rescan(self) -> None:
        """List the trained shuffles (those with a snapshot) and the project's videos."""
        from posenb.nn.snapshots import list_snapshots, snapshot_iteration
        from posenb.project.config import read_config
        from posenb.widgets._review import list_shuffles, project_videos

        if self.config is None:
            self._set_status("Open a project first (Project tab).", "warning")
            return
        self.cfg = read_config(self.config)
        options = []
        for k, tsi, folder in list_shuffles(self.cfg):
            snaps = list_snapshots(folder / "train")
            if snaps and tsi >= 0:
                last = snapshot_iteration(snaps[-1])
                pct = folder.name.rsplit("-trainset", 1)[-1].split("shuffle")[0]
                options.append((f"shuffle {k} · train {pct}% · snapshot {last}", f"{k}:{tsi}"))
        current = self.shuffle_select.value
        self.shuffle_select.options = options
        values = [v for _, v in options]
        if values:
            self.shuffle_select.value = current if current in values else values[0]
        extra = [v for v in self.videos.options if v not in {str(p) for p in project_videos(self.cfg)}]
        project = [str(p) for p in project_videos(self.cfg)]
        selected = [v for v in self.videos.value if v in project + extra]
        self.videos.options = project + extra
        self.videos.value = tuple(selected or project)
        if not options:
            self._set_status("No trained model yet: create a training set and train it first (Train tab).", "warning")
        else:
            self._set_status("")

    def add_videos(self, paths: list[str]) -> list[str]:
        """Add server videos (or every video of a folder) to the list, selected; returns those added."""
        from posenb.project.paths import list_videos

        added, problems = [], []
        for raw in paths:
            try:
                found = list_videos(check_path(raw))
            except (PosenbError, OSError) as exc:
                problems.append(str(exc))
                continue
            if not found:
                problems.append(f"{raw}: no video files there.")
            added += [str(v) for v in found if str(v) not in self.videos.options]
        selected = list(self.videos.value)  # (new options reset the selection)
        self.videos.options = list(self.videos.options) + added
        self.videos.value = tuple(dict.fromkeys(selected + added))
        if problems:
            self._set_status("\n".join(problems), "error")
        else:
            self._set_status(f"Added {len(added)} video(s) to the list.", "ok")
        return added

    # ------------------------------------------------------------------ action
    def analyze(self, background: bool = True) -> None:
        """``analyze_videos`` for each selected video in a background thread; progress and results shown."""
        if self.config is None:
            self._set_status("Open a project first (Project tab).", "warning")
            return
        if not self.shuffle_select.value:
            self._set_status("Nothing analyzed: no trained model yet (train a shuffle in the Train tab).", "warning")
            return
        videos = list(self.videos.value)
        if not videos:
            self._set_status("Nothing analyzed: select one or more videos in the list first.", "warning")
            return
        shuffle, tsi = (int(v) for v in self.shuffle_select.value.split(":"))
        config, csv = self.config, bool(self.csv_check.value)
        track = self._track_args()
        run = {} if track else dict(RUN_MODES[self.run_mode.value][1])
        self.progress.max, self.progress.value = len(videos), 0
        self.results = []
        self._show_results()

        def work():
            import posenb
            from posenb.post._common import find_analysis_file

            for i, video in enumerate(videos):
                self.progress_text.value = html.escape(f"video {i + 1} of {len(videos)}: {Path(video).name}")
                try:
                    scorer = posenb.analyze_videos(
                        config, [video], shuffle=shuffle, trainingsetindex=tsi, save_as_csv=csv, **track, **run
                    )
                    if track.get("auto_track") is False:  # per-frame animals only
                        h5 = Path(video).with_name(f"{Path(video).stem}{scorer}_detections.h5")
                    else:
                        h5 = find_analysis_file(self.cfg, video, shuffle, tsi, scorer=scorer)
                    self.results.append((video, str(h5), "ok"))
                except (PosenbError, OSError) as exc:
                    self.results.append((video, None, str(exc)))
                self.progress.value = i + 1
                self._show_results()
            self.progress_text.value = f"{len(videos)} of {len(videos)} done"
            return self.results

        self._actions.run(f"Analyzing {len(videos)} video(s)", work, after=self._done, background=background)

    def _track_args(self) -> dict:
        """``auto_track`` / ``n_tracks`` for a multi-animal project (``n_tracks`` None: the individuals)."""
        from posenb.project.config import project_parts

        parts = project_parts(self.cfg)
        if not parts.multianimal:
            return {}
        n = int(self.n_tracks.value)
        return {
            "auto_track": bool(self.track_check.value),
            "n_tracks": None if n == len(parts.individuals) else n,
        }

    def _done(self, results) -> None:
        failed = [r for r in results if r[1] is None]
        if failed:
            self._set_status(f"Analyzed {len(results) - len(failed)} video(s); {len(failed)} failed (see the table).", "error")
        else:
            self._set_status(f"Analyzed {len(results)} video(s). Next: review them in the 'Analyze & review' tab.", "ok")
        self._notify_project()

    def _show_results(self) -> None:
        rows = []
        for video, h5, msg in self.results:
            out = html.escape(Path(h5).name) if h5 else f'<span style="color:#cf222e">{html.escape(msg)}</span>'
            rows.append(f"<tr><td>{html.escape(Path(video).name)}</td><td>{out}</td></tr>")
        self.table.value = (
            "<table class='posenb-analyze-table' cellpadding='4'><tr><th>video</th><th>predictions</th></tr>"
            + "".join(rows) + "</table>"
        ) if rows else ""

    def wait(self, timeout: float | None = None) -> bool:
        return self._actions.wait(timeout)

"""The actions of :class:`posenb.widgets.trajectory_viewer.TrajectoryViewer` (a mixin): the buttons call the
core functions ``filterpredictions``, ``create_labeled_video``, ``plot_trajectories`` and
``extract_outlier_frames`` on the shown video, in a thread (:class:`posenb.widgets._actions.ActionRunner`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from posenb.widgets._trajectory_data import describe as _describe

__all__ = ["TrajectoryActions"]


class TrajectoryActions:
    """Filter, labeled video, plots, outlier and frame extraction of the viewer's video."""

    def filter_predictions(self) -> None:
        """``posenb.filterpredictions`` on this video, then show the filtered predictions."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        self._run(
            "Filtering",
            lambda: posenb.filterpredictions(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                filtertype=self.filtertype.value,
            ),
            after=lambda _r: self._show_source("filtered"),
        )

    def labeled_video(self) -> None:
        """``posenb.create_labeled_video`` of this video (raw or filtered, as shown)."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        filtered = self.source.value == "filtered"
        # a multi-animal file: one colour per individual, names when shown on the frame (DLC's color_by)
        extra = (
            {"color_by": "individual", "individual_labels": bool(self.names_check.value)}
            if self.individuals
            else {}
        )
        self._run(
            "Writing the labeled video",
            lambda: posenb.create_labeled_video(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                filtered=filtered,
                draw_skeleton=bool(self.skeleton),
                overwrite=True,
                **extra,
            ),
            after=lambda r: self._set_status(f"Labeled video written next to {video.name}: {_describe(r)}"),
        )

    def save_plots(self) -> None:
        """``posenb.plot_trajectories`` of this video (raw or filtered, as shown): PNGs next to the analysis."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        filtered = self.source.value == "filtered"
        self._run(
            "Saving the trajectory plots",
            lambda: posenb.plot_trajectories(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                filtered=filtered,
            ),
            after=lambda r: self._set_status(
                f"Plots saved: {', '.join(Path(str(p)).name for paths in r.values() for p in paths)} "
                f"(in plot-poses/{video.stem}/ next to the analysis file)."
            ),
        )

    def outlier_frames(self) -> None:
        """``posenb.extract_outlier_frames(..., automatic=True)`` with the chosen algorithm ("uncertain" uses the
        p-cutoff slider as ``p_bound``)."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        algo = self.outlier_algo.value
        # "uncertain": frames with a point below the p-cutoff shown here (DLC's p_bound)
        extra = {"p_bound": float(self.pcutoff.value)} if algo == "uncertain" else {}
        self._run(
            "Extracting outlier frames",
            lambda: posenb.extract_outlier_frames(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                outlieralgorithm=algo,
                automatic=True,
                **extra,
            ),
            after=lambda r: self._set_status(
                f"Outlier frames saved in labeled-data/{video.stem} {_describe(r)}; refine them in the "
                "refinement editor."
            ),
        )

    def extract_frame(self, index: int | None = None) -> None:
        """Add frame ``index`` (default: the one under the cursor) to ``labeled-data`` with its machine labels
        (``extract_outlier_frames(outlieralgorithm="list", frames2use=[index], automatic=True)``)."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        index = int(self.frame.value if index is None else index)
        self._run(
            f"Extracting frame {index}",
            lambda: posenb.extract_outlier_frames(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                outlieralgorithm="list",
                frames2use=[index],
                automatic=True,
            ),
            after=lambda r: self._set_status(
                f"Frame {index} added to labeled-data/{video.stem} with its predictions."
            ),
        )

    def _require_video(self) -> Path | None:
        if self.config is None or not self.video_select.value:
            self._set_status("Open a project and pick a video first.", "warning")
            return None
        return Path(self.video_select.value)

    def _show_source(self, source: str) -> None:
        if self.source.value == source:
            self.load()
        else:
            self.source.value = source  # reloads
        self._set_status(f"Showing {source} predictions: {self.h5.name if self.h5 else '-'}")

    def _run(self, what: str, fn: Callable, after: Callable | None = None) -> None:
        """Run a core function in a thread (the notebook stays usable); report in the status line."""
        self._actions.run(what, fn, after)

    @property
    def last_result(self):
        """What the last action (filter, labeled video, outliers) returned."""
        return self._actions.result

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running action (filter, labeled video, outliers); True if none is running afterwards."""
        return self._actions.wait(timeout)

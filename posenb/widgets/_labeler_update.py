"""The labeler's "Update model" button (a mixin of :class:`posenb.widgets.labeler.Labeler`, through its side panel).

Label, update, correct, update: the button saves the labels, then runs
:func:`posenb.train.labeling_model.update_labeling_model` (the model behind the suggestions, trained on every
label; warm-started) as a background job (:mod:`posenb.widgets._background`, keyed by
``<project>/labeling-model``), so labeling goes on while it trains. A status line under the button follows its
events; pressing the button again while it runs stops it (a snapshot is saved). When it is done, the suggester
reloads the newest model and the suggestions of the current and later images are asked again.

No computation here: the core trains, :func:`update_status_text` words the events (pure, tested without a
browser), :func:`posenb.widgets.labeler_suggest.clear_suggestions` drops the old suggestions.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from posenb.widgets._background import JobFinished, get_job, start_job

__all__ = ["ModelUpdate", "update_status_text"]

_IDLE_LABEL = "Update model"
_RUNNING_LABEL = "Stop update"


def update_status_text(event) -> str | None:
    """One line for an event of the update job (a :class:`~posenb.train.events.TrainingEvent` or the final
    :class:`~posenb.widgets._background.JobFinished`); None when the line need not change."""
    if isinstance(event, JobFinished):
        if event.error:
            return f"Update failed: {event.error}"
        done = event.result
        if done is None:
            return "Update ended."
        if done.mode == "up to date":
            return f"The model is up to date ({done.frames} labeled frames); suggestions unchanged."
        name = done.snapshot.stem if done.snapshot is not None else "no snapshot"
        how = "stopped" if done.stopped else "done"
        return (
            f"Model updated ({how}, {done.mode}: {done.frames} labeled frames, {done.new_frames} new, "
            f"{done.iterations} iterations; {name}). Suggestions refreshed."
        )
    kind = getattr(event, "kind", "")
    if kind == "start":
        return f"Updating the model: starting (iteration {event.iteration} of {event.max_iters})…"
    if kind == "display":
        loss = f", loss {event.loss:.4f}" if event.loss is not None else ""
        return f"Updating the model: iteration {event.iteration} of {event.max_iters}{loss}…"
    return None


class ModelUpdate:
    """Mixin: the "Update model" button, its status line and the job (the host provides ``save``, ``state``,
    ``config_path``, ``cfg``, ``suggester``, ``_suggested``, ``_suggest_source``, ``suggest``, ``_redraw_points``,
    ``_update_status``, ``_set_message``)."""

    def _make_update_controls(self) -> widgets.VBox:
        self.update_job = None  # the running or last update job (posenb.widgets._background.Job)
        self.update_iterations: int | None = None  # None: update_labeling_model's rule (tests set a few)
        self.update_button = widgets.Button(
            description=_IDLE_LABEL,
            icon="refresh",
            tooltip="Save the labels and train the suggestion model on all of them (in the background)",
            layout=widgets.Layout(width="180px"),
        )
        self.update_button.add_class("posenb-update-model")
        self.update_status = widgets.HTML(layout=widgets.Layout(width="180px"))
        self.update_status.add_class("posenb-update-model-status")
        self.update_button.on_click(lambda _: self.update_model())
        return widgets.VBox([self.update_button, self.update_status])

    def update_model(self):
        """Save the labels, then update the suggestion model in the background (stop it when it is running).

        Returns the job (:class:`posenb.widgets._background.Job`), or None when nothing was started."""
        from posenb.project.paths import get_labeling_model_dir  # noqa: PLC0415
        from posenb.widgets._training_jobs import labeling_model_target  # noqa: PLC0415

        if self.update_job is not None and self.update_job.running:
            self.update_job.stop()
            self._show_update("Stopping the update (a snapshot is saved)…")
            return None
        if self.cfg is None or self.config_path is None:
            self._show_update("Open a project first.")
            return None
        if self.state is not None and self.state.dirty and self.save() is None:
            self._show_update("Labels not saved: the model was not updated.")
            return None
        folder = get_labeling_model_dir(self.cfg)
        old = get_job(folder)
        if old is not None and old.running:  # started by another panel of this kernel
            self._show_update("An update of this project's model is already running.")
            return None
        target = labeling_model_target(self.config_path, iterations=self.update_iterations)
        self.update_job = start_job(folder, target, kind="labeling-model")
        self.update_button.description = _RUNNING_LABEL
        self._show_update("Updating the model: saved the labels, starting…")
        self.update_job.add_listener(self._on_update_event)
        return self.update_job

    def _show_update(self, text: str) -> None:
        self.update_status.value = f"<small>{html.escape(text)}</small>"

    def _on_update_event(self, event) -> None:
        """Runs in the job's thread: the status line; at the end, the new model's suggestions."""
        text = update_status_text(event)
        if isinstance(event, JobFinished):
            self.update_button.description = _IDLE_LABEL
            if not event.error and event.result is not None and event.result.mode != "up to date":
                self.refresh_suggestions()
                if self.suggester is not None:
                    text = f"{text} Suggestions: {self.suggester.describe()}."
        if text:
            self._show_update(text)

    def refresh_suggestions(self) -> None:
        """Reload the suggester's model and ask again for the current and later images' suggestions."""
        from posenb.widgets.labeler_suggest import clear_suggestions  # noqa: PLC0415

        if self.suggester is not None:
            self.suggester.reload()
        s = self.state
        if s is None or not s.images:
            return
        later = range(s.frame, s.n_images)
        self._suggested -= set(later)
        for i in later:
            self._suggest_source.pop(i, None)
        self.state = clear_suggestions(self.state, later)
        self.suggest()
        self._redraw_points()
        self._update_status()

"""TrackProofreader: proofread the tracks of a multi-animal video (``posenb.refine_tracks(config, video)``).

The tracked file (``<video>DLC_<scorer>_el.h5``) is opened as a :class:`posenb.track.proofread.TrackEditor`; the
panel only shows it and hands every edit to it. A timeline has one row per individual (segments filled, gaps
empty, low-confidence stretches banded, suspicious frames ticked, a cursor; a click jumps there and picks
individual A by its row); the frame view shows each individual's points and skeleton in its colour, and a point
dragged there is fixed (likelihood 1). Buttons: previous / next suspicious frame, swap A and B from the current
frame to the "until" frame (exclusive; empty: to the end; "Until next suspicious" fills it), cut A here, join A into B, delete A's segment, undo / redo, save (atomic, previous file kept) and send
the edited frames to the training set. What is drawn comes from the pure :mod:`posenb.widgets._track_timeline`
and :mod:`posenb.widgets._track_frame`.
"""

from __future__ import annotations

import html
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from posenb.errors import PosenbError
from posenb.widgets._panel import Panel
from posenb.widgets._proofreader_draw import ProofreaderDrawing
from posenb.widgets._proofreader_layout import ProofreaderLayout, swap_stop
from posenb.widgets._review import project_videos
from posenb.widgets._track_frame import Mouse, individual_colors
from posenb.widgets._track_timeline import TimelineGeometry, segment_at

__all__ = ["TrackProofreader", "refine_tracks"]


class TrackProofreader(ProofreaderLayout, ProofreaderDrawing, Panel):
    """Proofread the tracks of one video of a multi-animal project.

    Parameters
    ----------
    config : path of the project's config.yaml (or None: call :meth:`set_config` later).
    video : the video whose tracked file to open (default: the first project video that has one).
    shuffle, trainingsetindex, destfolder : which analysis (as for ``analyze_videos``).
    tracked : the tracked ``.h5`` itself (default: found from the video, shuffle and config).
    """

    def __init__(
        self,
        config: str | os.PathLike | None = None,
        video: str | os.PathLike | None = None,
        shuffle: int = 1,
        trainingsetindex: int = 0,
        destfolder: str | os.PathLike | None = None,
        tracked: str | os.PathLike | None = None,
    ):
        super().__init__()
        self.add_class("posenb-track-proofreader")
        self.cfg: dict = {}
        self.editor = None  # posenb.track.proofread.TrackEditor
        self.video: Path | None = None
        self.trainingsetindex = trainingsetindex
        self.destfolder = destfolder
        self.tracked = tracked
        self.suspicions: list = []
        self.colors = np.zeros((0, 3), np.uint8)
        self.skeleton: list[tuple[int, int]] = []
        self.image_canvas = None
        self.timeline = None  # ipycanvas.MultiCanvas: the tracks' layer, then the cursor's
        self.geometry: TimelineGeometry | None = None
        self.mouse = Mouse()
        self.last_saved: Path | None = None
        self.last_sent: Path | None = None
        self._reader = None
        self._image_key = None
        self._updating = False
        self._lock = threading.RLock()
        self._build(shuffle)
        if config is not None:
            self.set_config(config, video)

    # ------------------------------------------------------------------ project / file
    def set_config(self, config: str | os.PathLike, video: str | os.PathLike | None = None) -> None:
        """Open project ``config`` and the tracked file of ``video`` (default: the first video that has one)."""
        self.load_config(config)
        self.pcutoff.value = float(self.cfg.get("pcutoff", 0.6))
        if not self.cfg.get("multianimalproject"):
            self._close_file(
                "Not a multi-animal project: track proofreading needs tracked individuals.", "warning"
            )
            return
        videos = project_videos(self.cfg)
        if video is not None:
            video = Path(video)
            videos = [video] + [v for v in videos if v.name != video.name]
        elif videos:
            video = next((v for v in videos if self._has_tracks(v)), videos[0])
        self._updating = True
        self.video_select.options = [(v.name, str(v)) for v in videos]
        self.video_select.value = str(video) if video is not None else None
        self._updating = False
        if video is None:
            self._close_file("No videos in this project.", "warning")
            return
        self.load()

    def _close_file(self, message: str, level: str = "info") -> None:
        """Let go of the shown file (saving unsaved edits first) and clear the views."""
        saved = self._save_before_leaving()
        self.editor = None
        self.suspicions = []
        self._close_reader()
        self._refresh()
        if self.image_canvas is not None:
            self.image_canvas.clear_image()
        self._set_status(saved + message, level)

    def _has_tracks(self, video: Path) -> bool:
        from posenb.post._common import find_analysis_file

        try:
            find_analysis_file(
                self.cfg, video, self.shuffle.value, self.trainingsetindex, destfolder=self.destfolder
            )
        except PosenbError:
            return False
        return True

    def _on_video(self, change) -> None:
        if not self._updating and change["new"]:
            self.tracked = None
            self.load()

    def load(self) -> bool:
        """(Re)open the selected video's tracked file; True if it was found. Unsaved edits of the file shown
        until now are saved first (as the refinement editor does)."""
        from posenb.post.skeleton import skeleton_indices
        from posenb.track.proofread import load_track_editor

        if not self.config or not self.video_select.value:
            return False
        saved = self._save_before_leaving()
        video = Path(self.video_select.value)
        try:
            editor = load_track_editor(
                self.config, video, shuffle=self.shuffle.value, trainingsetindex=self.trainingsetindex,
                destfolder=self.destfolder, tracked=self.tracked,
            )  # fmt: skip
        except PosenbError as exc:
            self.editor = None
            self._set_status(saved + str(exc), "warning")
            self._redraw_timeline()
            return False
        self.editor = editor
        self._open_video(video)
        self.colors = individual_colors(len(editor.individuals), self.cfg.get("colormap") or "rainbow")
        self.skeleton = list(skeleton_indices(editor.bodyparts, self.cfg.get("skeleton")))
        self._updating = True
        names = list(editor.individuals)
        self.ind_a.options, self.ind_b.options = names, names
        self.ind_a.value = names[0] if names else None
        self.ind_b.value = names[1] if len(names) > 1 else None
        self.part.options = list(editor.bodyparts)
        self.part.value = editor.bodyparts[0] if editor.bodyparts else None
        self.frame.max = max(0, editor.n_frames - 1)
        self.frame.value = 0
        self._updating = False
        self._make_timeline()
        self._make_canvas()
        self._after_edit(
            saved + f"{editor.path.name}: {editor.n_frames} frames, {len(names)} tracks "
            f"({', '.join(names)}), {{n}} suspicious frames."
        )
        return True

    def _save_before_leaving(self) -> str:
        """Save the shown file when it has unsaved edits; returns what to tell (empty when nothing was saved)."""
        if self.editor is None or not self.editor.dirty:
            return ""
        name = self.editor.path.name if self.editor.path else "the tracks"
        return f"Unsaved edits of {name} were saved first. " if self.save() is not None else ""

    def _open_video(self, video: Path) -> None:
        # frame-exact: the points are fixed on the frame shown, and sent to the training set as that frame
        from posenb.io.video import open_for_viewing

        self._close_reader()
        self.video = video
        try:
            self._reader = open_for_viewing(video)
        except PosenbError as exc:
            self._reader = None
            self._set_status(f"Video unreadable, showing the tracks only: {exc}", "warning")

    def _close_reader(self) -> None:
        if self._reader is not None:
            try:
                self._reader.close()
            except Exception:  # noqa: BLE001 - closing a broken reader must not break the panel
                pass
        self._reader, self._image_key = None, None

    # ------------------------------------------------------------------ navigation
    @property
    def current(self) -> int:
        return int(self.frame.value)

    def go_to(self, frame: int) -> None:
        """Show ``frame`` (clamped to the video)."""
        self.frame.value = int(np.clip(frame, 0, self.frame.max))

    def _on_frame(self, _change) -> None:
        if not self._updating:
            self._refresh(cursor_only=True)

    def _on_individual(self, change) -> None:
        if self._updating:
            return
        other = self.ind_b if change["owner"] is self.ind_a else self.ind_a
        if change["new"] is not None and other.value == change["new"]:  # A == B: exchange them
            self._updating = True
            other.value = change["old"]
            self._updating = False
        self._redraw_timeline(cursor_only=True)
        self._update_info()

    def pick(self, a: str, b: str | None = None) -> None:
        """Make ``a`` individual A (and ``b`` B); A and B stay different (B becomes the old A if needed)."""
        old_a = self.ind_a.value
        self._updating = True
        self.ind_a.value = a
        if b is not None and b != a:
            self.ind_b.value = b
        elif self.ind_b.value == a:
            self.ind_b.value = old_a if old_a != a else next((n for n in self.ind_b.options if n != a), None)
        self._updating = False
        self._redraw_timeline(cursor_only=True)

    def _jump(self, found, direction: str) -> None:
        if found is None:
            self._set_status(f"No suspicious frame {direction} frame {self.current}.")
            return
        self.go_to(found.frame)
        names = [n for n in getattr(found, "individuals", ()) if n in self.ind_a.options]
        if names:
            self.pick(*names[:2])
        self._set_status(f"Frame {found.frame}: {found.kind} -- {found.detail}")
        self._update_info()

    def next_suspicious(self) -> None:
        """Go to the first suspicious frame after the current one (of the kind picked, or any)."""
        if self._editor_or_warn():
            self._jump(self.editor.next_suspicious(self.current, kinds=self._kinds()), "after")

    def prev_suspicious(self) -> None:
        """Go to the last suspicious frame before the current one."""
        if self._editor_or_warn():
            self._jump(self.editor.prev_suspicious(self.current, kinds=self._kinds()), "before")

    def _kinds(self):
        return None if self.kinds.value is None else [self.kinds.value]

    # ------------------------------------------------------------------ edits (all through the TrackEditor)
    def _editor_or_warn(self) -> bool:
        if self.editor is None:
            self._set_status("Open a project with a tracked video first.", "warning")
            return False
        return True

    def _edit(self, fn, message: str) -> bool:
        """Run ``fn()`` (an editor call); report a refused edit; redraw. ``message`` may use ``{result}``."""
        if not self._editor_or_warn():
            return False
        try:
            result = fn()
        except (PosenbError, ValueError, IndexError) as exc:
            self._set_status(f"Not done: {exc}", "error")
            return False
        self._after_edit(message.format(result=result, n="{n}"))
        return True

    def _segment(self, individual: str, after: bool = False) -> tuple[int, int] | None:
        seg = segment_at(self.editor.segments(individual), self.current, after=after)
        if seg is None:
            self._set_status(f"{individual} has no points at frame {self.current}.", "warning")
        return seg

    def swap(self) -> bool:
        """Swap the identities of A and B from the current frame up to the "until" frame (exclusive), or to the
        end when that field is empty; the field is emptied after a swap."""
        a, b, t = self.ind_a.value, self.ind_b.value, self.current
        try:
            stop = swap_stop(self.swap_to.value)
        except ValueError as exc:
            self._set_status(f"Not done: {exc}", "error")
            return False
        where = (
            f"from frame {t} on"
            if stop is None
            else f"on frames {t}-{stop - 1} (from frame {stop} unchanged)"
        )
        done = self._edit(lambda: self.editor.swap(a, b, t, stop), f"Swapped {a} and {b} {where}.")
        if done:
            self.swap_to.value = ""
        return done

    def swap_until_next(self) -> bool:
        """Make the swap stop at the next suspicious frame of A or B after the current one (of the kind picked:
        the next swap, gap, close encounter...); no such frame: the swap runs to the end."""
        if not self._editor_or_warn():
            return False
        names = [n for n in (self.ind_a.value, self.ind_b.value) if n is not None]
        found = self.editor.next_suspicious(self.current, kinds=self._kinds(), individuals=names)
        if found is None:
            self.swap_to.value = ""
            self._set_status(
                f"No suspicious frame of {' or '.join(names)} after frame {self.current}: the swap runs to the end."
            )
            return False
        self.swap_to.value = str(found.frame)
        self._set_status(f"The swap will stop before frame {found.frame} ({found.kind}: {found.detail}).")
        return True

    def cut(self) -> bool:
        """A's segment from the current frame on moves to the first track free there."""
        a, t = self.ind_a.value, self.current
        return self._edit(lambda: self.editor.cut(a, t), f"Cut {a} at frame {t}: the rest is now {{result}}.")

    def join(self) -> bool:
        """A's segment under the cursor (else its next one) moves into B."""
        if not self._editor_or_warn():
            return False
        a, b = self.ind_a.value, self.ind_b.value
        seg = self._segment(a, after=True)
        if seg is None:
            return False
        return self._edit(
            lambda: self.editor.join(a, b, *seg), f"Joined {a}'s frames {seg[0]}-{seg[1] - 1} into {b}."
        )

    def delete_segment(self) -> bool:
        """Delete A's points on its segment under the cursor."""
        if not self._editor_or_warn():
            return False
        a = self.ind_a.value
        seg = self._segment(a)
        if seg is None:
            return False
        return self._edit(lambda: self.editor.delete(a, *seg), f"Deleted {a}'s frames {seg[0]}-{seg[1] - 1}.")

    def set_point(self, individual, bodypart, x: float, y: float) -> bool:
        """Fix one point of the current frame (image px; likelihood 1)."""
        t = self.current
        return self._edit(
            lambda: self.editor.set_point(t, individual, bodypart, x, y),
            f"Frame {t}: {self._name(individual)} {self._part(bodypart)} set to ({x:.1f}, {y:.1f}).",
        )

    def place_point(self, x: float, y: float) -> bool:
        """Put individual A's chosen part (the Part menu) at image ``(x, y)`` on the current frame."""
        if not self._editor_or_warn():
            return False
        if self.ind_a.value is None or self.part.value is None:
            self._set_status("Pick the individual (A) and the part to place first.", "warning")
            return False
        return self.set_point(self.ind_a.value, self.part.value, x, y)

    def delete_point(self, individual, bodypart) -> bool:
        """Delete one point of the current frame."""
        t = self.current
        return self._edit(
            lambda: self.editor.delete_point(t, individual, bodypart),
            f"Frame {t}: {self._name(individual)} {self._part(bodypart)} deleted.",
        )

    def undo(self) -> bool:
        """Undo the last edit."""
        return self._history("undo")

    def redo(self) -> bool:
        """Redo the last undone edit."""
        return self._history("redo")

    def _history(self, what: str) -> bool:
        if not self._editor_or_warn():
            return False
        if not getattr(self.editor, what)():
            self._set_status(f"Nothing to {what}.")
            return False
        self._after_edit("Undone." if what == "undo" else "Redone.")
        return True

    def save(self) -> Path | None:
        """Write the tracked file (atomic; the previous version kept as ``.bak``)."""
        if not self._editor_or_warn():
            return None
        try:
            path = self.editor.save()
        except PosenbError as exc:
            self._set_status(f"Not saved: {exc}", "error")
            return None
        self.last_saved = Path(path)
        self._update_info()
        self._set_status(f"Saved {Path(path).name} (the previous version kept as .bak).", "ok")
        return self.last_saved

    def send_frames(self) -> Path | None:
        """Extract the edited frames into ``labeled-data/<video>`` with the corrected points as human labels."""
        from posenb.track.training_set import send_to_training_set

        if not self._editor_or_warn():
            return None
        frames = sorted(self.editor.edited_frames)
        if not frames:
            self._set_status("No edited frames yet: fix some frames first.", "warning")
            return None
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                path = send_to_training_set(self.config, self.editor)
        except PosenbError as exc:
            self._set_status(f"Not sent: {exc}", "error")
            return None
        self.last_sent = Path(path)
        notes = " ".join(str(w.message) for w in caught)
        self._set_status(
            f"{len(frames)} edited frames sent to labeled-data/{Path(path).parent.name} ({Path(path).name}). "
            + (notes + " " if notes else "")
            + "Next: the 'Training set' tab (create_training_dataset).",
            "warning" if notes else "ok",
        )
        return self.last_sent

    def _name(self, individual) -> str:
        return (
            self.editor.individuals[individual]
            if isinstance(individual, (int, np.integer))
            else str(individual)
        )

    def _part(self, part) -> str:
        return self.editor.bodyparts[part] if isinstance(part, (int, np.integer)) else str(part)

    def _after_edit(self, message: str) -> None:
        """The arrays changed: recompute the suspicious frames (the editor does), redraw, report."""
        self._recompute()
        self._set_status(message.replace("{n}", str(len({s.frame for s in self.suspicions}))))

    # ------------------------------------------------------------------ drawing
    def _recompute(self) -> None:
        """The suspicious frames of the current tracks and p-cutoff (the editor finds them), then redraw."""
        self.suspicions = list(self.editor.suspicious(pcutoff=self.pcutoff.value)) if self.editor else []
        self._refresh()

    def _refresh(self, cursor_only: bool = False) -> None:
        """Redraw the timeline (only its cursor when just the frame changed), the frame and the info line."""
        self._redraw_timeline(cursor_only=cursor_only)
        self._redraw_frame()
        self._update_info()

    def _update_info(self) -> None:
        ed = self.editor
        if ed is None:
            self.info.value = ""
            return
        t = self.current
        here = [s for s in self.suspicions if s.frame == t]
        text = f"<b>Frame {t}</b> / {ed.n_frames - 1}"
        if here:
            text += " &middot; " + "; ".join(html.escape(f"{s.kind}: {s.detail}") for s in here)
        text += f" &middot; {len(ed.edited_frames)} edited frames"
        text += " &middot; <i>unsaved</i>" if ed.dirty else " &middot; saved"
        self.info.value = text

    def close(self) -> None:
        if hasattr(self, "_reader"):
            self._close_reader()
        if getattr(self, "timeline", None) is not None:
            self.timeline.close()
        super().close()  # Panel: the image canvas, then the VBox


def refine_tracks(
    config: str | os.PathLike, video: str | os.PathLike | None = None, **kwargs
) -> TrackProofreader:
    """Proofread the tracks of ``video`` (a multi-animal project's tracked ``_el.h5``): returns the
    :class:`TrackProofreader` panel. ``kwargs``: ``shuffle``, ``trainingsetindex``, ``destfolder``, ``tracked``."""
    return TrackProofreader(config, video, **kwargs)

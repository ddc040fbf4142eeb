"""``FrameGrabber``: scrub a project video, grab frames for labeling, draw the crop box, run automatic extraction.

- Scrub with the slider, the step buttons or Play; the frame is decoded on the server and sent to the canvas as
  JPEG bytes. Wheel zooms at the pointer, shift-drag pans.
- "Grab frame" / "Grab range" save DeepLabCut-named PNGs (``labeled-data/<stem>/img<index>.png``) through
  ``posenb.frames.extract.save_frames``, which never overwrites an existing frame (labeled frames included).
- "Draw crop box": drag a rectangle on the frame, then "Save crop" writes it to the video's ``video_sets`` crop in
  config.yaml (used by ``extract_frames(crop=True)``).
- "Extract": ``extract_frames(config, algo=..., userfeedback=False, videos_list=[video])`` with its progress bar.
- The list of extracted frames marks labeled ones; "Delete selected" removes only frames without labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posenb.errors import PosenbError
from posenb.io.video import VideoReader, open_frame_exact
from posenb.widgets._canvas import (
    CanvasEvent,
    ImageCanvas,
    attach_canvas,
    canvas_to_image,
    image_to_canvas,
    pan_by,
    zoom_at,
)
from posenb.widgets._grabber_controls import GrabberControls
from posenb.widgets._panel import Panel

__all__ = ["FrameGrabber", "crop_from_points", "labeled_image_sets", "labeled_images", "MAX_RANGE"]

MAX_RANGE = 2000  # frames one "Grab range" may save


def crop_from_points(p0, p1, width: int, height: int) -> tuple[int, int, int, int] | None:
    """``(x1, x2, y1, y2)`` integer crop box spanned by two image points, clipped to the frame; None if empty."""
    x1, x2 = sorted((float(p0[0]), float(p1[0])))
    y1, y2 = sorted((float(p0[1]), float(p1[1])))
    x1, y1 = int(max(0, np.floor(x1))), int(max(0, np.floor(y1)))
    x2, y2 = int(min(width, np.ceil(x2))), int(min(height, np.ceil(y2)))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    return x1, x2, y1, y2


def labeled_images(folder: str | Path) -> set[str]:
    """Image names of ``folder`` with at least one label in a ``CollectedData_*`` file or a row in
    ``machinelabels*`` (outlier frames waiting for refinement)."""
    human, machine = labeled_image_sets(folder)
    return human | machine


def labeled_image_sets(folder: str | Path) -> tuple[set[str], set[str]]:
    """``(human, machine)``: image names of ``folder`` with a label in a ``CollectedData_*`` file (labeled by
    hand), and those with a row in ``machinelabels*`` only (predictions of outlier frames, not yet refined)."""
    from posenb.errors import LabelError
    from posenb.io.labels import guarantee_multiindex_rows, read_hdf_any, read_labels

    folder = Path(folder)
    names: set[str] = set()
    tables = sorted(folder.glob("CollectedData_*.h5"))
    tables += [c for c in sorted(folder.glob("CollectedData_*.csv")) if not c.with_suffix(".h5").exists()]
    for table in tables:
        try:
            df = read_labels(table)
        except LabelError:
            continue
        mask = np.any(~np.isnan(df.to_numpy(dtype=float)), axis=1)
        names |= {str(idx[-1]) for idx, m in zip(df.index, mask) if m}
    machine: set[str] = set()
    for table in sorted(folder.glob("machinelabels*.h5")):
        try:
            df = guarantee_multiindex_rows(read_hdf_any(table))
        except LabelError:
            continue
        machine |= {str(idx[-1]) if isinstance(idx, tuple) else str(idx) for idx in df.index}
    return names, machine - names


class FrameGrabber(GrabberControls, Panel):
    """Pick frames of the project's videos for labeling (see the module docstring)."""

    STATUS = "message"

    def __init__(self, config: str | None = None, jpeg_quality: int = 85):
        super().__init__()
        self.add_class("posenb-frame-grabber")
        self.jpeg_quality = jpeg_quality
        self.source: VideoReader | None = None  # frame-exact (posenb.io.video.open_frame_exact)
        self.video_key: str | None = None
        self.crop_box: tuple[int, int, int, int] | None = None
        self._crop_start = None
        self._pan = None
        self.image_canvas: ImageCanvas | None = None
        self._make_scrub_controls()
        self._make_grab_controls()
        self._make_extract_controls()
        self._connect()
        self._lay_out()
        if config is not None:
            self.set_config(config)

    # ------------------------------------------------------------------ project and video
    def set_config(self, config: str) -> None:
        from posenb.project.config import read_config

        self.config_path = str(config)
        self.ranking.set_config(config)
        try:
            self.cfg = read_config(config)
        except PosenbError as exc:
            self._set_message(str(exc), "error")
            return
        self.n_pick.value = int(self.cfg.get("numframes2pick") or 20)
        videos = list(self.cfg.get("video_sets") or {})
        from posenb.project.paths import video_stem

        current = self.video_select.value
        self.video_select.options = [(video_stem(v), v) for v in videos]
        if not videos:
            self._set_message("No videos in this project: add some in the Project tab.", "warn")
            return
        target = current if current in videos else videos[0]
        if self.video_select.value != target:
            self.video_select.value = target  # its observer opens the video
        else:
            self.open_video(target)

    def open_video(self, video_key: str) -> None:
        from posenb.project.config import parse_crop
        from posenb.project.paths import resolve_video

        path = resolve_video(self.cfg, video_key)
        if path is None:
            self._set_message(f"Video {video_key} not found on disk (restore it or fix video_sets).", "error")
            return
        try:
            source = open_frame_exact(path)
        except PosenbError as exc:
            self._set_message(str(exc), "error")
            return
        keep = (
            self.slider.value if video_key == self.video_key else 0
        )  # re-opened (config edited): stay there
        if self.source is not None:
            self.source.close()
        self.source = source
        self.video_key = video_key
        entry = (self.cfg.get("video_sets") or {}).get(video_key) or {}
        try:
            self.crop_box = parse_crop(entry["crop"]) if entry.get("crop") else None
        except PosenbError:
            self.crop_box = None
        self.crop_text.value = ", ".join(map(str, self.crop_box)) if self.crop_box else ""
        if self.image_canvas is None:
            self.image_canvas = attach_canvas(
                self.canvas_box,
                (source.width, source.height),
                "posenb-grabber-canvas",
                self._on_canvas_event,
                self._draw_overlay,
            )
        last = max(source.n_frames - 1, 0)
        with self.slider.hold_trait_notifications():
            self.slider.max = last
            self.play.max = last
            self.range_start.max = self.range_stop.max = last
            self.range_stop.value = last
        keep = min(keep, last)
        if self.slider.value != keep:
            self.slider.value = keep  # its observer draws the frame
        else:
            self.show_frame(keep)
        self.refresh_list()

    @property
    def folder(self) -> Path | None:
        from posenb.project.paths import video_stem

        if self.cfg is None or self.video_key is None:
            return None
        return Path(self.cfg["project_path"]) / "labeled-data" / video_stem(self.video_key)

    def show_frame(self, index: int) -> None:
        """Decode and draw frame ``index`` (the slider follows)."""
        from posenb.widgets._image import encode_image

        if self.source is None:
            return
        index = int(min(max(index, 0), self.slider.max))
        if self.slider.value != index:
            self.slider.value = index  # its observer calls back here
            return
        try:
            frame = self.source.read(index)
        except PosenbError as exc:
            self._set_message(str(exc), "error")
            return
        self.image_canvas.set_image(
            encode_image(frame, "jpeg", self.jpeg_quality), (frame.shape[1], frame.shape[0])
        )
        t = index / self.source.fps if self.source.fps else 0.0
        self.frame_info.value = f"frame <b>{index}</b> / {self.source.n_frames - 1} · {t:.2f} s"

    # ------------------------------------------------------------------ grabbing
    def _save(self, indices) -> list[int]:
        from posenb.frames.extract import save_frames

        crop = self.crop_box if self.crop_check.value else None
        return save_frames(
            self.source.path,
            indices,
            self.folder,
            self.source.n_frames,
            crop=crop,
            progress=len(indices) > 20,
        )

    def grab(self, index: int | None = None) -> list[int]:
        """Save frame ``index`` (default: the one shown) as a PNG of the video's label folder."""
        from posenb.project.paths import frame_name

        if self.source is None:
            return []
        index = self.slider.value if index is None else int(index)
        try:
            saved = self._save([index])
        except (PosenbError, OSError) as exc:
            self._set_message(f"Not saved: {exc}", "error")
            return []
        name = frame_name(index, self.source.n_frames)
        if saved:
            self._set_message(f"Saved {self.folder.name}/{name}.", "ok")
        else:
            self._set_message(
                f"{self.folder.name}/{name} exists already: kept as it is (frames are never overwritten).",
                "warn",
            )
        self.refresh_list()
        return saved

    def grab_range(self, start: int, stop: int, step: int = 1) -> list[int]:
        """Save frames ``start, start + step, ..., <= stop``."""
        if self.source is None:
            return []
        indices = list(range(int(start), int(stop) + 1, max(1, int(step))))
        if not indices:
            self._set_message("Empty range: 'from' must not be after 'to'.", "error")
            return []
        if len(indices) > MAX_RANGE:
            self._set_message(
                f"{len(indices)} frames is too many at once (at most {MAX_RANGE}); use a larger step.",
                "error",
            )
            return []
        self.progress.clear_output()
        try:
            with self.progress:
                saved = self._save(indices)
        except (PosenbError, OSError) as exc:
            self._set_message(f"Stopped: {exc}", "error")
            saved = []
        else:
            skipped = len(indices) - len(saved)
            self._set_message(
                f"Saved {len(saved)} frame(s)"
                + (f"; {skipped} existed already and were kept." if skipped else "."),
                "ok",
            )
        self.refresh_list()
        return saved

    def extract(self) -> dict:
        """Run ``extract_frames`` (automatic) on this video or all videos, writing numframes2pick first if changed."""
        from posenb.frames.extract import extract_frames
        from posenb.project.config import read_config, write_config

        if self.cfg is None:
            return {}
        self.progress.clear_output()
        try:
            cfg = read_config(self.config_path)
            if cfg.get("numframes2pick") != self.n_pick.value:
                cfg["numframes2pick"] = int(self.n_pick.value)
                write_config(self.config_path, cfg)
                self.cfg = cfg
            videos = None if self.scope.value == "all" else [self.video_key]
            self._set_message("Extracting frames...")
            with self.progress:
                result = extract_frames(
                    self.config_path,
                    mode="automatic",
                    algo=self.algo.value,
                    crop=bool(self.crop_check.value),
                    userfeedback=False,
                    videos_list=videos,
                )
        except (PosenbError, OSError) as exc:
            self._set_message(f"Extraction failed: {exc}", "error")
            return {}
        n = sum(len(v) for v in (result or {}).values())
        self._set_message(f"Extracted {n} frame(s) from {len(result or {})} video(s).", "ok")
        self.refresh_list()
        return result or {}

    # ------------------------------------------------------------------ listing and deleting
    def refresh_list(self) -> None:
        folder = self.folder
        if folder is None or not folder.is_dir():
            self.frame_list.options = []
            self.list_info.value = "No frames extracted yet."
            return
        from posenb.widgets.labeler_io import list_images

        names = list_images(folder)
        human, machine = labeled_image_sets(folder)
        self._labeled = human | machine
        tags = {**{n: "  (machine labels)" for n in machine}, **{n: "  (labeled)" for n in human}}
        self.frame_list.options = [(f"{n}{tags.get(n, '')}", n) for n in names]
        n_machine = len(machine & set(names))
        self.list_info.value = f"{len(names)} frame(s), {len(human & set(names))} labeled by hand" + (
            f", {n_machine} with machine labels only (check them in the Refine tab)" if n_machine else ""
        )

    def delete_selected(self, names=None) -> list[str]:
        """Delete the selected frames (or ``names``) that have no labels; labeled ones are kept and reported."""
        folder = self.folder
        names = list(self.frame_list.value if names is None else names)
        if folder is None or not names:
            self._set_message("Select frames to delete first.")
            return []
        labeled = labeled_images(folder)
        deleted, kept = [], []
        for name in names:
            if name in labeled:
                kept.append(name)
                continue
            path = folder / Path(name).name
            if path.is_file():
                path.unlink()
                deleted.append(name)
        msg = f"Deleted {len(deleted)} frame(s)."
        if kept:
            msg += f" Kept {len(kept)} labeled frame(s): {', '.join(kept[:5])}{'...' if len(kept) > 5 else ''} (remove their labels first)."
        self._set_message(msg, "warn" if kept else "ok")
        self.refresh_list()
        return deleted

    def _on_list_select(self, change) -> None:
        from posenb.project.paths import frame_index

        if len(change["new"]) == 1 and self.source is not None:
            i = frame_index(change["new"][0])
            if i is not None and i != self.slider.value:
                self.slider.value = min(i, self.slider.max)

    # ------------------------------------------------------------------ crop box and canvas events
    def save_crop(self) -> bool:
        """Write the crop box (drawn or typed) to this video's ``video_sets`` entry in config.yaml."""
        from posenb.project.config import format_crop, parse_crop, read_config, write_config

        if self.cfg is None or self.video_key is None:
            return False
        try:
            x1, x2, y1, y2 = parse_crop(self.crop_text.value, "crop box")
            if self.source is not None and (x2 > self.source.width or y2 > self.source.height):
                raise PosenbError(
                    f"crop box {x1, x2, y1, y2} exceeds the {self.source.width}x{self.source.height} frame."
                )
            cfg = read_config(self.config_path)
            cfg["video_sets"].setdefault(self.video_key, {})["crop"] = format_crop(x1, x2, y1, y2)
            write_config(self.config_path, cfg)
        except (PosenbError, OSError) as exc:
            self._set_message(f"Crop not saved: {exc}", "error")
            return False
        self.cfg = cfg
        self.crop_box = (x1, x2, y1, y2)
        self._set_message(
            f"Saved crop {format_crop(x1, x2, y1, y2)} for {Path(self.video_key).stem} in config.yaml.", "ok"
        )
        self.image_canvas.redraw(overlays_only=True)
        return True

    def _on_canvas_event(self, ev: CanvasEvent) -> None:
        ic = self.image_canvas
        view = ic.view
        if view is None:
            return
        if ev.kind == "wheel":
            cx = ev.x if ev.x is not None else view.canvas_w / 2
            cy = ev.y if ev.y is not None else view.canvas_h / 2
            ic.set_view(zoom_at(view, cx, cy, float(np.exp(-np.clip(ev.delta, -500, 500) * 0.002))))
            return
        if ev.kind == "key" and ev.key in ("r", "R"):
            ic.reset_view()
            return
        if ev.kind == "key" and ev.key in ("ArrowRight", "ArrowLeft"):
            self.show_frame(self.slider.value + (1 if ev.key == "ArrowRight" else -1))
            return
        if ev.x is None:
            return
        if ev.kind == "down" and (ev.button == 1 or ev.shift):
            self._pan = ((ev.x, ev.y), view)
            return
        if self._pan is not None and ev.kind in ("move", "up"):
            (sx, sy), v0 = self._pan
            ic.set_view(pan_by(v0, ev.x - sx, ev.y - sy))
            if ev.kind == "up" or ev.buttons == 0:
                self._pan = None
            return
        if not self.crop_mode.value:
            return
        point = canvas_to_image(view, ev.x, ev.y)
        if ev.kind == "down" and ev.button == 0:
            self._crop_start = point
        elif ev.kind in ("move", "up") and self._crop_start is not None:
            box = crop_from_points(self._crop_start, point, view.image_w, view.image_h)
            if box is not None:
                self.crop_text.value = ", ".join(map(str, box))  # its observer redraws the overlay
            if ev.kind == "up" or ev.buttons == 0:
                self._crop_start = None
                if box is not None:
                    self._set_message(f"Crop box {box}: press 'Save crop' to store it in config.yaml.")

    def _draw_overlay(self) -> None:
        from posenb.project.config import parse_crop

        layer = self.image_canvas.layers[1]
        layer.clear()
        view = self.image_canvas.view
        if view is None:
            return
        try:
            box = parse_crop(self.crop_text.value) if self.crop_text.value.strip() else None
        except PosenbError:
            box = None
        if box is None:
            return
        x1, x2, y1, y2 = box
        (cx1, cx2), (cy1, cy2) = image_to_canvas(view, [x1, x2], [y1, y2])
        layer.stroke_style = "#ffcc00"
        layer.line_width = 2
        layer.set_line_dash([6, 4])
        layer.stroke_rect(float(cx1), float(cy1), float(cx2 - cx1), float(cy2 - cy1))
        layer.set_line_dash([])

"""CalibrationView: checkerboard calibration of a 3D project's cameras, tuple by tuple.

The panel calls the core of :mod:`posenb.threed.calibration` and draws what comes back:

- "Detect corners": :func:`~posenb.threed.find_calibration_corners` (also over ``removed_calibration_images/``, so
  removed tuples can be kept again; writes no ``corners/`` previews, moves nothing);
- the list of image tuples with their status (board found in all views / failed in some / removed) and, after
  calibration, each image's RMS reprojection error;
- the selected tuple's views side by side with the detected corners drawn (one ``ipywidgets.Image`` per camera);
- "Drop" / "Keep": :func:`~posenb.threed.drop_calibration_pair` / :func:`~posenb.threed.keep_calibration_pair`;
- "Calibrate": :func:`~posenb.threed.calibrate_cameras` with ``calibrate=True`` (which also moves tuples whose board
  was not found in every view to ``removed_calibration_images/``), then the RMS reprojection error per camera and
  per pair, with a warning above :data:`RMS_WARNING_PX`.

Pure presentation helpers (tested without widgets): :func:`tuple_status`, :func:`table_rows`, :func:`row_label`,
:func:`rms_report`, :func:`corner_preview`, :func:`moved_tuple`, :func:`merge_calibration`.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import threading
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from posenb.errors import PosenbError
from posenb.widgets._actions import status_html as _msg
from posenb.widgets._calibration_layout import CalibrationLayout
from posenb.widgets._calibration_state import (  # noqa: F401 - public names of this module
    _NBSP,
    _PLACEHOLDER,
    RMS_WARNING_PX,
    RmsEntry,
    TupleRow,
    _natural_key,
    corner_preview,
    merge_calibration,
    moved_tuple,
    rms_report,
    row_label,
    table_rows,
    tuple_status,
)
from posenb.widgets._panel import Panel

__all__ = [
    "CalibrationView",
    "TupleRow",
    "RmsEntry",
    "RMS_WARNING_PX",
    "tuple_status",
    "table_rows",
    "row_label",
    "rms_report",
    "corner_preview",
    "moved_tuple",
    "merge_calibration",
]


class CalibrationView(CalibrationLayout, Panel):
    """Detect the board, review tuples, drop / keep them, calibrate and read the reprojection errors.

    Parameters
    ----------
    config : the 3D project's config.yaml (or None: enter it in the path box, or call :meth:`set_config`).
    cbrow, cbcol : inner corners per board column and row (the 9x6 OpenCV board: ``cbrow=6, cbcol=9``).
    background : run detection and calibration in a thread (the kernel stays responsive); :meth:`wait` waits.
    """

    def __init__(
        self, config: str | os.PathLike | None = None, cbrow: int = 8, cbcol: int = 6, background: bool = True
    ):
        super().__init__()
        self.add_class("posenb-calibration-view")
        self.cfg: dict = {}
        self.cameras: list[str] = []
        self.tuples: list = []  # CalibrationTuple list shown
        self.rows: list[TupleRow] = []
        self.result = None  # last CalibrationResult
        self.pattern: tuple[int, int] | None = None  # (cbrow, cbcol) of the shown detection
        self.stale = False  # the tuple set changed since the last calibration
        self.log_text = ""
        self.image_widgets: dict[str, widgets.Image] = {}
        self.captions: dict[str, widgets.HTML] = {}
        self.rms_labels: dict[str, widgets.HTML] = {}
        self.background = background
        self._thread: threading.Thread | None = None
        self._updating = False
        self._build(cbrow, cbcol)
        if config is not None:
            self.set_config(config)
        else:
            self._set_status(
                "Enter the config.yaml of a 3D project (posenb.create_new_project_3d creates one)."
            )

    # ------------------------------------------------------------------ project
    def set_config(self, config: str | os.PathLike) -> bool:
        """Open the 3D project of ``config`` (its config.yaml or folder); checked first, nothing is written.

        On a bad path (missing, not YAML, a 2D project's config) the error is shown and the current project kept.
        Returns True if the project was opened.
        """
        from posenb.threed import read_config_3d

        if self.busy:
            self._set_status("Busy: wait for the current detection or calibration to finish.", "warning")
            return False
        text = str(config).strip()
        self._set_path(text)
        if not text:
            self._set_status("Enter the path of a 3D project's config.yaml.", "warning")
            return False
        try:
            cfg = read_config_3d(Path(text).expanduser())
        except (PosenbError, OSError) as exc:
            kept = f" ({Path(self.config).parent.name} stays open)" if self.config else ""
            self._set_status(f"Cannot open {text}: {exc}{kept}", "error")
            return False
        self.cfg = cfg
        self.config = str(Path(cfg["project_path"]) / "config.yaml")
        self._set_path(self.config)
        self.cameras = list(cfg["camera_names"])
        self.tuples, self.result, self.pattern, self.stale = [], None, None, False
        self._build_views()
        self._show_result(None)
        self._refresh_table()
        n_images = self._show_project()
        root = Path(cfg["project_path"])
        if n_images:
            self._set_status("Set the board's inner corners and press Detect corners.")
        else:
            self._set_status(
                f"No images yet: put the board images (*.jpg, names with {self.cameras[0]} ...) into "
                f"{root / 'calibration_images'}.",
                "warning",
            )
        return True

    def _show_project(self) -> int:
        """Project line (name, cameras, image counts); returns the number of images in both folders."""
        root = Path(self.cfg["project_path"])
        n_img = len(list((root / "calibration_images").glob("*.jpg")))
        n_rem = len(list((root / "removed_calibration_images").glob("*.jpg")))
        self.project_html.value = (
            f"3D project <b>{html.escape(root.name)}</b>: cameras {html.escape(', '.join(self.cameras))}; "
            f"{n_img} images in calibration_images/, {n_rem} in removed_calibration_images/."
        )
        return n_img + n_rem

    def _on_path(self, change) -> None:
        if not self._updating and change["new"].strip() and change["new"] != self.config:
            self.open_typed(change["new"])

    def open_typed(self, text: str) -> bool:
        """Open a typed path: only inside the dashboard's allowed roots (posenb.io.roots), else a message."""
        from posenb.widgets._file_browser import check_path

        if str(text).strip():
            try:
                check_path(text)
            except PosenbError as exc:
                self._set_status(str(exc), "error")
                return False
        return self.set_config(text)

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ core calls
    def _board(self) -> tuple[int, int]:
        return int(self.cbrow_input.value), int(self.cbcol_input.value)

    def detect(self) -> None:
        """:func:`~posenb.threed.find_calibration_corners` over kept and removed tuples; shows the list."""
        from posenb.threed import find_calibration_corners

        if not self._need_project():
            return
        config, (cbrow, cbcol) = self.config, self._board()

        def work():
            tuples = find_calibration_corners(config, cbrow, cbcol, draw=False, include_removed=True)
            self.tuples, self.pattern = tuples, (cbrow, cbcol)
            self._refresh_table()
            n_ok = sum(t.found and not t.removed for t in tuples)
            n_fail = sum(not t.found and not t.removed for t in tuples)
            if not tuples:
                self._set_status("No complete image tuples (one image per camera) found.", "warning")
            elif n_fail:
                self._set_status(
                    f"Board ({cbrow}x{cbcol} inner corners) found in every view of {n_ok} tuples, not "
                    f"in {n_fail}: drop them (Calibrate drops them too).",
                    "warning",
                )
            else:
                self._set_status(
                    f"Board found in every view of {n_ok} tuples. Check them, drop bad ones, then "
                    "press Calibrate.",
                    "ok",
                )

        self._run("Detecting corners", work)

    def calibrate(self) -> None:
        """:func:`~posenb.threed.calibrate_cameras` (``calibrate=True``); shows the RMS errors per camera and pair."""
        from posenb.threed import calibrate_cameras

        if not self._need_project():
            return
        config, (cbrow, cbcol) = self.config, self._board()
        removed_folder = Path(self.cfg["project_path"]) / "removed_calibration_images"

        def work():
            result = calibrate_cameras(config, cbrow, cbcol, calibrate=True)
            known = self.tuples if self.pattern == (cbrow, cbcol) else []
            self.tuples = merge_calibration(known, result, removed_folder)
            self.result, self.pattern, self.stale = result, (cbrow, cbcol), False
            self._show_result(result)
            self._refresh_table()
            moved = (
                f"; moved {len(result.removed)} tuple(s) with a failed view to removed_calibration_images/"
                if result.removed
                else ""
            )
            above = [e.name for e in rms_report(result.camera_rms_px, result.pair_rms_px) if e.above]
            self._set_status(
                f"Calibrated with {result.n_tuples} tuples{moved}. Saved in camera_matrix/.",
                "warning" if above or result.removed else "ok",
            )

        self._run("Calibrating", work)

    def drop(self, key: str | None = None) -> None:
        """Move tuple ``key`` (default: the selected one) to ``removed_calibration_images/``."""
        from posenb.threed import drop_calibration_pair

        self._move(key, drop_calibration_pair, removed=True)

    def keep(self, key: str | None = None) -> None:
        """Move tuple ``key`` (default: the selected one) back to ``calibration_images/``."""
        from posenb.threed import keep_calibration_pair

        self._move(key, keep_calibration_pair, removed=False)

    def _move(self, key: str | None, fn: Callable, removed: bool) -> None:
        if not self._need_project():
            return
        key = key if key is not None else self.table.value
        if key is None:
            self._set_status("Select a tuple first.", "warning")
            return
        verb = "Drop" if removed else "Keep"
        try:
            paths = fn(self.config, key)
        except PosenbError as exc:
            self._set_status(f"{verb} failed: {exc}", "error")
            return
        except OSError as exc:
            self._set_status(f"{verb} failed: {type(exc).__name__}: {exc}", "error")
            return
        folder = Path(paths[0]).parent if paths else None
        self.tuples = [moved_tuple(t, folder, removed) if t.key == key and folder else t for t in self.tuples]
        self.stale = self.stale or self.result is not None
        self._refresh_table(select=key)
        self._show_result(self.result)
        where = "removed_calibration_images/" if removed else "calibration_images/"
        done = "Dropped" if removed else "Kept"
        self._set_status(f"{done} {key}: {len(paths)} images now in {where}.", "ok")

    def _need_project(self) -> bool:
        if self.config is None:
            self._set_status("Open a 3D project first (its config.yaml in the box above).", "warning")
            return False
        if self.busy:
            self._set_status("Busy: wait for the current detection or calibration to finish.", "warning")
            return False
        return True

    def _run(self, what: str, fn: Callable[[], None]) -> None:
        def work():
            buf = io.StringIO()
            for b in (self.detect_button, self.calibrate_button, self.open_button):
                b.disabled = True
            self._set_status(f"{what}...")
            try:
                with contextlib.redirect_stdout(buf):
                    fn()
            except PosenbError as exc:
                self._set_status(f"{what} failed: {exc}", "error")
            except Exception as exc:  # noqa: BLE001 - shown in the panel, never a traceback
                self._set_status(f"{what} failed: {type(exc).__name__}: {exc}", "error")
            finally:
                for b in (self.detect_button, self.calibrate_button, self.open_button):
                    b.disabled = False
                self._append_log(buf.getvalue())

        if self.background:
            self._thread = threading.Thread(target=work, daemon=True, name="posenb-calibration")
            self._thread.start()
        else:
            work()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running detection or calibration; True if none is running afterwards."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.busy

    # ------------------------------------------------------------------ drawing
    def _refresh_table(self, select: str | None = None) -> None:
        per_image = self.result.per_image_rms_px if self.result is not None else {}
        self.rows = table_rows(self.tuples, per_image, self.order.value)
        current = select if select is not None else self.table.value
        keys = [r.key for r in self.rows]
        width = max([len(r.name) for r in self.rows] + [6])
        self._updating = True
        try:
            self.table.options = [(row_label(r, width), r.key) for r in self.rows]
            self.table.value = current if current in keys else (keys[0] if keys else None)
        finally:
            self._updating = False
        if self.cfg:
            self._show_project()
        counts = {s: sum(r.status == s for r in self.rows) for s in ("found", "failed", "removed")}
        self.summary_html.value = (
            f"{len(self.rows)} tuples: {counts['found']} found in all views, {counts['failed']} failed, "
            f"{counts['removed']} removed"
            if self.rows
            else "<i>No tuples listed: press Detect corners.</i>"
        )
        self._show_tuple()

    def _on_select(self, _change) -> None:
        if not self._updating:
            self._show_tuple()

    def selected_tuple(self):
        """The :class:`~posenb.threed.CalibrationTuple` selected in the list (None if none)."""
        return next((t for t in self.tuples if t.key == self.table.value), None)

    def _show_tuple(self) -> None:
        from posenb.widgets._image import encode_image, read_image

        t = self.selected_tuple()
        self.drop_button.disabled = t is None or t.removed
        self.keep_button.disabled = t is None or not t.removed
        rms = self.result.per_image_rms_px.get(t.key, {}) if t is not None and self.result is not None else {}
        for cam, image in self.image_widgets.items():
            caption = self.captions[cam]
            if t is None or cam not in t.images:
                image.value, caption.value = b"", f"<b>{html.escape(cam)}</b>"
                continue
            path = Path(t.images[cam])
            corners = t.corners.get(cam)
            if corners is None:
                note = _msg("board not found", "error")
            else:
                note = _msg(f"{len(corners)} corners", "ok")
            if t.removed:
                note += ", removed"
            if cam in rms:
                note += f", RMS {rms[cam]:.2f} px" + (" \u26a0" if rms[cam] > RMS_WARNING_PX else "")
            try:
                preview, _ = corner_preview(read_image(path), corners, self.pattern or self._board())
                image.value = encode_image(preview, "jpeg", 85)
            except (OSError, ValueError) as exc:
                image.value = b""
                note = _msg(f"cannot read the image: {exc}", "error")
            caption.value = f"<b>{html.escape(cam)}</b>: {html.escape(path.name)} ({note})"

    def _show_result(self, result) -> None:
        """The RMS labels (one per camera and pair) and the warning; empty before a calibration."""
        if result is None:
            self.rms_labels = {}
            self.rms_box.children = []
            self.rms_title.value = self.rms_warning.value = ""
            return
        entries = rms_report(result.camera_rms_px, result.pair_rms_px)
        labels = {}
        for e in entries:
            color = "#c00" if e.above else "#1a7f37"
            kind = "camera" if e.kind == "camera" else "stereo pair"
            label = widgets.HTML(
                f'{kind} {html.escape(e.name)}: <b style="color:{color}">{e.rms_px:.3f} px</b>'
            )
            label.add_class("posenb-calib-rms-label")
            labels[e.name] = label
        self.rms_labels = labels
        self.rms_box.children = list(labels.values())
        self.rms_title.value = f"<b>RMS reprojection error</b> ({result.n_tuples} tuples)"
        warnings = []
        above = [e.name for e in entries if e.above]
        if above:
            warnings.append(
                _msg(
                    f"Above {RMS_WARNING_PX:g} px: {', '.join(above)}. Order the list by largest error, drop the worst "
                    "tuples (blurred or partly hidden boards) and calibrate again.",
                    "warning",
                )
            )
        if self.stale:
            warnings.append(_msg("The tuple set changed since this calibration: calibrate again.", "warning"))
        self.rms_warning.value = "<br>".join(warnings)

    def _on_board_change(self, _change) -> None:
        if self.pattern is not None and self._board() != self.pattern:
            self._set_status(
                f"Board size changed from {self.pattern[0]}x{self.pattern[1]}: press Detect corners again.",
                "warning",
            )

    def _append_log(self, text: str) -> None:
        text = "\n".join(line for line in text.splitlines() if line.strip())
        if not text:
            return
        self.log_text = "\n".join((self.log_text + "\n" + text).strip().splitlines()[-200:])
        self.log_html.value = (
            f"<pre style='font-size:11px;white-space:pre-wrap'>{html.escape(self.log_text)}</pre>"
        )

    def _set_path(self, text: str) -> None:
        self._updating = True
        try:
            self.path_text.value = text
        finally:
            self._updating = False

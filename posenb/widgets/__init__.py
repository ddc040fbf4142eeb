"""Jupyter panels (the only package that imports ipywidgets, ipycanvas, ipyevents, bqplot, IPython).

Files:

- ``app.py``: :func:`launch`, the tabbed app with every panel in workflow order.
- ``wizard.py`` (``ProjectWizard``), ``frame_grabber.py`` (``FrameGrabber``), ``labeler.py`` (``Labeler``,
  ``label_frames``), ``label_check.py`` (``CheckLabelsView``), and the panels of later stages
  (``training_monitor.py``, ``evaluation_view.py``, ``trajectory_viewer.py``, ``track_proofreader.py``
  (``refine_tracks``), ``refiner.py``, ``calibration_view.py``).
- ``_canvas.py``: zoom/pan view and coordinate transforms (pure), canvas events, ``ImageCanvas`` (MultiCanvas
  with an image layer and overlays); ``_image.py``: frames to PNG/JPEG bytes.
- ``labeler_state.py`` gathers the labeler's pure modules (``labeler_layout``: slots of one animal or several;
  ``labeler_model``: state and actions; ``labeler_animals``: individuals, copy, swap; ``labeler_suggest``;
  ``labeler_events``; ``labeler_draw``; ``labeler_status``); ``labeler_io.py``: its view of the label-folder model;
  ``_labeler_side.py``, ``_individuals.py``, ``_points_layer.py``: the labeler's side panel and drawing calls.

Adding a panel: a subclass of ``_panel.Panel`` (a ``VBox``: project config, ``set_config(path)``, status line,
``on_project`` callbacks) named with a noun, constructed as ``MyPanel(config=None)``; register it in
``app.PANELS``. The labeler and the refiner share ``_frame_view.FrameView`` (canvas, current frame, navigation). Names here are imported lazily so ``import posenb.widgets``
stays fast.
"""

from __future__ import annotations

import importlib

__all__ = ["launch", "label_frames", "refine_labels", "refine_tracks"]


def launch(config: str | None = None, roots=None):
    """The posenb app: one tab per workflow stage (see :func:`posenb.widgets.app.launch`; ``roots``: further
    folders its file browsers may open)."""
    from posenb.widgets.app import launch as _launch

    return _launch(config, roots=roots)


def label_frames(config: str, *args, **kwargs):
    """DeepLabCut's ``label_frames``: returns the :class:`~posenb.widgets.labeler.Labeler` panel."""
    from posenb.widgets.labeler import label_frames as _label_frames

    return _label_frames(config, *args, **kwargs)


def refine_labels(config: str, *args, **kwargs):
    """DeepLabCut's ``refine_labels``: returns the ``RefinementEditor`` panel (``posenb.widgets.refiner``)."""
    module = importlib.import_module("posenb.widgets.refiner")
    return module.RefinementEditor(config, *args, **kwargs)


def refine_tracks(config: str, video=None, **kwargs):
    """Proofread a multi-animal video's tracks (swap, cut, join, delete, fix points; save the ``_el.h5``): returns
    the ``TrackProofreader`` panel (``posenb.widgets.track_proofreader``)."""
    module = importlib.import_module("posenb.widgets.track_proofreader")
    return module.TrackProofreader(config, video, **kwargs)

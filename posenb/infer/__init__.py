"""Inference: video analysis and evaluation against labels.

Files
-----
- ``predictor.py``: :class:`Predictor` (batched model + decode, frames in original pixels in and out) and
  :func:`load_predictor` (snapshot selection, body-part check, DLC scorer string). Shared by both below.
- ``analyze.py``: :func:`analyze_videos` (DeepLabCut's API): streamed decoding in a background thread,
  batched inference, ``<stem><DLCscorer>.h5`` + ``_meta.pickle`` (+ ``.csv``).
- ``distributed.py``: the Dask fan-out behind :func:`analyze_videos_dask` (in ``analyze.py``): many videos in parallel on a Dask cluster, one task per
  video (optional extra ``posenb[cluster]``; ``analyze_videos(..., client=)`` forwards to it).
- ``evaluate.py``: :func:`evaluate_network` (DeepLabCut's files and column names) and
  :func:`evaluation_table` (per-image predictions for the evaluation panel).
- ``export.py``: :func:`export_model` (DeepLabCut's ``exported-models/`` folder with a TorchScript live model
  that needs only torch) and :func:`load_exported_model`; ``_live.py`` holds the torch modules it traces.
- ``maps.py``: :func:`extract_maps`, :func:`extract_save_all_maps`, :func:`visualize_scoremaps`,
  :func:`visualize_locrefs` (score maps and locref fields of the labeled images), :func:`predict_maps`.

Nothing heavy is imported here.
"""

__all__ = [
    "analyze_videos",
    "analyze_videos_dask",
    "evaluate_network",
    "evaluation_table",
    "export_model",
    "load_exported_model",
    "extract_maps",
    "extract_save_all_maps",
    "visualize_scoremaps",
    "visualize_locrefs",
    "predict_maps",
    "load_predictor",
    "Predictor",
]

_LAZY = {
    "analyze_videos": "posenb.infer.analyze",
    "analyze_videos_dask": "posenb.infer.analyze",
    "evaluate_network": "posenb.infer.evaluate",
    "evaluation_table": "posenb.infer.evaluate",
    "export_model": "posenb.infer.export",
    "load_exported_model": "posenb.infer.export",
    "extract_maps": "posenb.infer.maps",
    "extract_save_all_maps": "posenb.infer.maps",
    "visualize_scoremaps": "posenb.infer.maps",
    "visualize_locrefs": "posenb.infer.maps",
    "predict_maps": "posenb.infer.maps",
    "load_predictor": "posenb.infer.predictor",
    "Predictor": "posenb.infer.predictor",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'posenb.infer' has no attribute {name!r}")

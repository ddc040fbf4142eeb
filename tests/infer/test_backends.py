"""Inference back ends (posenb.infer.backends): ONNX Runtime and OpenVINO agree with the torch path."""

from __future__ import annotations

import importlib.util
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.errors import ConfigError

RUNTIMES = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            importlib.util.find_spec(name) is None or importlib.util.find_spec("onnx") is None,
            reason=f'{name} not installed (pip install "posenb[fast]")',
        ),
    )
    for name in ("onnxruntime", "openvino")
]


def _tiny_predictor(backend, seed=0):
    import torch

    from posenb.infer.predictor import Predictor
    from posenb.nn import build_model

    torch.manual_seed(seed)
    model = build_model("mobilenet_v2_0.35", 3, pretrained=False)
    # non-trivial BatchNorm statistics, so folding and the runtimes' arithmetic are really exercised
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return Predictor(model, global_scale=0.5, backend=backend)


def _frames(n=5, h=96, w=128, seed=1):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (1, h, w, 3), dtype=np.uint8)
    noise = rng.integers(-20, 20, (n, h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("backend", RUNTIMES)
def test_runtime_matches_torch(backend):
    frames = _frames()
    ref = _tiny_predictor("torch")
    fast = _tiny_predictor(backend)
    assert fast.backend == backend
    want = ref.predict(frames)
    got = fast.predict(frames)
    assert got.shape == want.shape == (5, 3, 3)
    assert fast._runners[(48, 64)] is not None  # the runtime ran (no fallback to torch)
    np.testing.assert_allclose(got[..., 2], want[..., 2], atol=1e-4)  # likelihoods
    np.testing.assert_allclose(got[..., :2], want[..., :2], atol=1e-2)  # x, y in frame pixels
    # another batch size and another input size (a second export) still agree
    np.testing.assert_allclose(fast.predict(frames[:2]), want[:2], atol=1e-2)
    small = _frames(3, 64, 80, seed=2)
    np.testing.assert_allclose(fast.predict(small), ref.predict(small), atol=1e-2)
    assert len(fast._runners) == 2


@pytest.mark.parametrize("backend", RUNTIMES)
def test_runtime_runs_each_test_scale_in_its_own_session(backend):
    """Test-time scales on a runtime: one session per scale's input size (no fallback to torch), the averaged key
    points as torch's."""
    from posenb.infer.multiscale import check_scales

    frames = _frames()
    ref, fast = _tiny_predictor("torch"), _tiny_predictor(backend)
    ref.test_scales = fast.test_scales = check_scales([1.1, 1.25])
    got, want = fast.predict(frames), ref.predict(frames)
    assert sorted(fast._runners) == [(53, 70), (60, 80)]  # 96x128 frames x 0.5 x 1.1 and x 1.25
    assert all(r is not None for r in fast._runners.values())
    assert fast.run_summary()["backend"] == backend
    np.testing.assert_allclose(got[..., 2], want[..., 2], atol=1e-4)
    np.testing.assert_allclose(got[..., :2], want[..., :2], atol=1e-2)


@pytest.mark.parametrize("backend", RUNTIMES)
def test_export_onnx_file_runs_in_runtime(backend, tmp_path):
    from posenb.infer.backends.onnx import OnnxRuntimeRunner, OpenVinoRunner, export_onnx

    pred = _tiny_predictor("torch")
    frames = _frames(4, 48, 64)
    data = export_onnx(pred.model, frames, tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").read_bytes() == data and not list(tmp_path.glob("*.tmp"))
    runner = (OnnxRuntimeRunner if backend == "onnxruntime" else OpenVinoRunner)(tmp_path / "m.onnx", threads=1)
    heatmap, locref = runner(frames)
    want = pred._torch_outputs(frames)
    assert heatmap.shape == want[0].shape == (4, 3, 6, 8) and locref.shape == (4, 6, 6, 8)
    np.testing.assert_allclose(heatmap, want[0], atol=1e-3)
    np.testing.assert_allclose(locref, want[1], atol=1e-3)


def test_resolve_backend(monkeypatch):
    import posenb.infer.backends as B

    assert B.resolve_backend("torch") == "torch"
    assert B.resolve_backend("auto", "cuda") == "torch"
    with pytest.raises(ConfigError, match="Unknown inference backend"):
        B.resolve_backend("tensorrt")
    with pytest.raises(ConfigError, match="CPU only"):
        B.resolve_backend("onnxruntime", "cuda")
    # without posenb[fast]: "auto" falls back to torch with a note; an explicit runtime is a clear error
    monkeypatch.setattr(B, "_installed", lambda name: name == "torch")
    monkeypatch.setattr(B, "_NOTED", False)
    with pytest.warns(UserWarning, match=r"posenb\[fast\]"):
        assert B.resolve_backend(None) == "torch"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert B.resolve_backend("auto") == "torch"  # noted once per process
    with pytest.raises(ConfigError, match=r"pip install \"posenb\[fast\]\""):
        B.resolve_backend("openvino")
    assert B.available_backends() == ["torch"]


def test_failing_runtime_falls_back_to_torch(monkeypatch):
    import posenb.infer.backends as B

    monkeypatch.setattr(B, "_installed", lambda name: True)
    pred = _tiny_predictor("onnxruntime")

    def broken(*args, **kwargs):
        raise RuntimeError("no such runtime here")

    monkeypatch.setattr(B, "make_runner", broken)
    frames = _frames()
    with pytest.warns(UserWarning, match="analysing with torch: no such runtime"):
        got = pred.predict(frames)
    np.testing.assert_allclose(got, _tiny_predictor("torch").predict(frames), atol=1e-6)


@pytest.mark.slow
def test_analyze_videos_writes_the_same_files_with_each_backend(trained, tmp_path):
    from posenb.infer.analyze import analyze_videos
    from posenb.infer.backends import available_backends

    video = Path(trained["config"]).parent / "videos" / "demo_mouse.mp4"
    results = {}
    for backend in available_backends():
        out = tmp_path / backend
        scorer = analyze_videos(trained["config"], [str(video)], destfolder=str(out), save_as_csv=True,
                                backend=backend)  # fmt: skip
        files = sorted(p.name for p in out.iterdir())
        assert files == sorted(f"demo_mouse{scorer}{ext}" for ext in (".h5", ".csv", "_meta.pickle"))
        df = pd.read_hdf(out / f"demo_mouse{scorer}.h5", key="df_with_missing")
        with open(out / f"demo_mouse{scorer}_meta.pickle", "rb") as fh:
            meta = pickle.load(fh)["data"]
        results[backend] = (files, df, meta)
    files, ref, meta_ref = results["torch"]
    for backend, (f, df, meta) in results.items():
        assert f == files
        assert df.shape == ref.shape == (150, 3 * len(ref.columns.unique("bodyparts")))
        assert (df.columns == ref.columns).all() and (df.index == ref.index).all()
        xy = df.drop(columns="likelihood", level="coords").to_numpy()
        xy_ref = ref.drop(columns="likelihood", level="coords").to_numpy()
        assert np.median(np.abs(xy - xy_ref)) < 0.01, backend
        np.testing.assert_allclose(
            df.xs("likelihood", level="coords", axis=1), ref.xs("likelihood", level="coords", axis=1), atol=1e-3
        )
        assert meta["nframes"] == meta_ref["nframes"] and meta["Scorer"] == meta_ref["Scorer"]

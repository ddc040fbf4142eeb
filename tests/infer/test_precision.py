"""precision="bfloat16" (posenb.infer.backends): faster key points within a tolerance; float32 unchanged."""

from __future__ import annotations

import importlib.util
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.errors import ConfigError

NEEDS_OPENVINO = pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None or importlib.util.find_spec("onnx") is None,
    reason='openvino not installed (pip install "posenb[fast]")',
)


def _native_bf16() -> bool:
    from posenb.infer.backends import native_bf16

    return native_bf16()


NEEDS_BF16 = pytest.mark.skipif(
    not _native_bf16(), reason="this CPU has no native bfloat16 (AMX / AVX512-BF16)"
)


def _tiny_predictor(backend, precision="float32"):
    """A random tiny network whose score maps have clear peaks (bfloat16 keeps 8 bits of mantissa: the nearly
    flat maps of a random head would make every argmax a coin toss)."""
    import torch

    from posenb.infer.predictor import Predictor
    from posenb.nn import build_model

    torch.manual_seed(0)
    model = build_model("mobilenet_v2_0.35", 3, pretrained=False)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    with torch.no_grad():
        model.head.final.weight.mul_(30.0)
        model.head.final.bias.zero_()
    return Predictor(model, global_scale=0.5, backend=backend, precision=precision)


def _frames(n=8, h=96, w=128, seed=3):
    """Grey frames with a bright square each (a clear response of the random network), a little noise."""
    rng = np.random.default_rng(seed)
    frames = np.full((n, h, w, 3), 110, np.int64)
    for i in range(n):
        y, x = rng.integers(10, h - 26), rng.integers(10, w - 28)
        frames[i, y : y + 14, x : x + 14] = 250
    return np.clip(frames + rng.integers(-6, 6, frames.shape), 0, 255).astype(np.uint8)


def _dist(a, b):
    return np.linalg.norm(a[..., :2] - b[..., :2], axis=-1)


def test_unknown_precision_is_a_clear_error():
    from posenb.infer.backends import make_runner, resolve_precision

    assert resolve_precision(None) == resolve_precision("fp32") == "float32"
    with pytest.raises(ConfigError, match=r"Unknown precision 'float8'.*'float32' or 'bfloat16'"):
        resolve_precision("float8")
    with pytest.raises(ConfigError, match="Unknown precision 'half'"):
        _tiny_predictor("torch", precision="half")
    with pytest.raises(ConfigError, match="ONNX Runtime runs in float32 only"):
        make_runner("onnxruntime", None, None, precision="bfloat16")


def test_bfloat16_falls_back_to_float32_with_one_warning(monkeypatch):
    import posenb.infer.backends as B

    # a CPU without native bfloat16: emulation would be slower, so float32 with a warning saying why
    monkeypatch.setattr(B, "native_bf16", lambda: False)
    with pytest.warns(UserWarning, match="analysing in float32: this CPU has no native bfloat16") as record:
        pred = _tiny_predictor("torch", precision="bfloat16")
    assert len(record) == 1
    assert pred.precision == "float32"
    frames = _frames(4)
    np.testing.assert_array_equal(pred.predict(frames), _tiny_predictor("torch").predict(frames))
    assert pred.run_summary() == {"backend": "torch", "precision": "float32"}
    # ONNX Runtime has no bfloat16 CPU path worth having, whatever the CPU
    monkeypatch.setattr(B, "native_bf16", lambda: True)
    with pytest.warns(UserWarning, match="ONNX Runtime has no bfloat16 CPU path"):
        assert B.resolve_precision("bf16", "onnxruntime") == "float32"
    assert B.resolve_precision("bf16", "openvino") == "bfloat16"


def test_float32_is_the_default_and_gives_torch_key_points():
    pred = _tiny_predictor("torch")
    assert pred.precision == "float32"
    frames = _frames(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no precision note for the default
        got = pred.predict(frames)
    assert pred.run_summary() == {"backend": "torch", "precision": "float32"}
    np.testing.assert_array_equal(got, _tiny_predictor("torch", precision=None).predict(frames))


@NEEDS_BF16
def test_torch_bfloat16_on_cpu_is_close_to_float32():
    frames = _frames()
    want = _tiny_predictor("torch").predict(frames)
    pred = _tiny_predictor("torch", precision="bfloat16")
    got = pred.predict(frames)
    assert pred.precision == "bfloat16"
    assert pred.run_summary() == {"backend": "torch", "precision": "bfloat16"}
    d = _dist(got, want)
    assert np.median(d) < 0.5 and d.max() > 0  # really computed in bfloat16, and close
    np.testing.assert_allclose(got[..., 2], want[..., 2], atol=0.05)


@NEEDS_OPENVINO
@NEEDS_BF16
def test_openvino_bfloat16_key_points_within_tolerance():
    frames = _frames()
    want = _tiny_predictor("torch").predict(frames)
    exact = _tiny_predictor("openvino", precision="float32")
    np.testing.assert_allclose(exact.predict(frames), want, atol=1e-2)  # float32 stays torch's key points
    assert exact.run_summary() == {"backend": "openvino", "precision": "float32"}
    fast = _tiny_predictor("openvino", precision="bfloat16")
    got = fast.predict(frames)
    assert fast._runners[(48, 64)] is not None  # OpenVINO ran in bfloat16 (it passed its check)
    assert fast._runners[(48, 64)].precision == "bfloat16"
    assert fast.run_summary() == {"backend": "openvino", "precision": "bfloat16"}
    d = _dist(got, want)
    assert np.median(d) < 0.5, np.median(d)  # frame pixels; a stride-8 cell is 16 px at global_scale 0.5
    np.testing.assert_allclose(got[..., 2], want[..., 2], atol=0.05)


@NEEDS_OPENVINO
@NEEDS_BF16
def test_bfloat16_runtime_failing_its_check_falls_back_to_torch(monkeypatch):
    import posenb.infer.predictor as P

    monkeypatch.setattr(P, "BF16_CHECK_PX", -1.0)  # no runtime can pass: the check must say so and fall back
    pred = _tiny_predictor("openvino", precision="bfloat16")
    with pytest.warns(
        UserWarning,
        match=r"openvino back end not used, analysing with torch: .*\(torch computes in bfloat16\)",
    ):
        got = pred.predict(_frames(4))
    assert pred._runners[(48, 64)] is None
    assert pred.run_summary() == {"backend": "torch", "precision": "bfloat16"}
    assert got.shape == (4, 3, 3) and np.isfinite(got).all()


@pytest.mark.slow
@NEEDS_OPENVINO
@NEEDS_BF16
def test_analyze_videos_bfloat16_records_precision(trained, tmp_path):
    from posenb.infer.analyze import analyze_videos

    video = Path(trained["config"]).parent / "videos" / "demo_mouse.mp4"
    out = {}
    for precision in ("float32", "bfloat16"):
        dest = tmp_path / precision
        scorer = analyze_videos(trained["config"], [str(video)], destfolder=str(dest), backend="openvino",
                                precision=precision)  # fmt: skip
        with open(dest / f"demo_mouse{scorer}_meta.pickle", "rb") as fh:
            meta = pickle.load(fh)["data"]
        assert meta["posenb_backend"] == "openvino" and meta["posenb_precision"] == precision
        df = pd.read_hdf(dest / f"demo_mouse{scorer}.h5", key="df_with_missing")
        out[precision] = df.to_numpy().reshape(len(df), -1, 3)
    d = _dist(out["bfloat16"], out["float32"])
    assert np.median(d) < 0.5, np.median(d)
    with pytest.raises(ConfigError, match="Unknown precision"):
        analyze_videos(trained["config"], [str(video)], destfolder=str(tmp_path / "x"), precision="int4")


def test_multi_animal_analysis_says_it_runs_in_float32():
    from posenb.infer.analyze_ma import _warn_unsupported

    with pytest.warns(UserWarning, match="multi-animal analysis runs in float32"):
        _warn_unsupported((False,), None, "auto", "bfloat16")
    with pytest.raises(ConfigError, match="Unknown precision 'int4'"):
        _warn_unsupported((False,), None, "auto", "int4")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_unsupported((False,), None, "auto", "float32")


@pytest.mark.slow
def test_cli_analyze_precision_reaches_the_meta_file(trained, tmp_path, capsys):
    """``posenb analyze ... --precision bfloat16`` analyses in bfloat16 (float32 with a warning on a CPU without
    it, as documented) and says so in ``_meta.pickle``; the default stays float32."""
    from posenb.cli import build_parser, main

    video = Path(trained["config"]).parent / "videos" / "demo_mouse.mp4"
    assert build_parser().parse_args(["analyze", "c.yaml", "v.mp4"]).precision == "float32"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["analyze", "c.yaml", "v.mp4", "--precision", "int4"])
    capsys.readouterr()
    for precision, dest in (("bfloat16", tmp_path / "bf16"), (None, tmp_path / "default")):
        extra = ["--precision", precision] if precision else []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the documented fallback warning on a CPU without bfloat16
            assert main(["analyze", trained["config"], str(video), "--destfolder", str(dest), *extra]) == 0
        scorer = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("scorer: ")
        with open(dest / f"demo_mouse{scorer}_meta.pickle", "rb") as fh:
            meta = pickle.load(fh)["data"]
        want = "bfloat16" if precision and _native_bf16() else "float32"
        assert meta["posenb_precision"] == want, (precision, meta["posenb_precision"])
        assert len(pd.read_hdf(dest / f"demo_mouse{scorer}.h5", key="df_with_missing")) == meta["nframes"]

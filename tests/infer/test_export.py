"""export_model: DeepLabCut's folder and files, and a TorchScript live model that runs with torch alone and
gives the Predictor's poses."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from posenb.errors import ModelError
from posenb.infer.export import (
    ExportExistsError,
    export_model,
    load_exported_model,
    trace_live_model,
)
from posenb.infer.predictor import Predictor, load_predictor
from posenb.nn import build_model, list_backbones
from posenb.project.config import read_config

FILES = {"pose_cfg.yaml", "snapshot-50.pt", "snapshot-50.torchscript.pt", "README.txt", "README.json"}
if importlib.util.find_spec("onnx") is not None:  # posenb[fast]: the network as ONNX too
    FILES.add("snapshot-50.onnx")

# runs in a fresh interpreter where importing posenb is impossible: the exported file must need torch only
LIVE_SCRIPT = """
import json, sys
sys.modules["posenb"] = None
import torch
model = torch.jit.load(sys.argv[1])
x = torch.load(sys.argv[2], weights_only=True)
with torch.inference_mode():
    y = model(x)
    single = model(x[0])
    as_float = model(x.float())
torch.save(y, sys.argv[3])
print(json.dumps({
    "bodyparts": list(model.bodyparts),
    "global_scale": model.global_scale,
    "input": [model.input_width, model.input_height],
    "single_ok": bool(torch.allclose(single, y[:1], atol=1e-3)),
    "float_ok": bool(torch.allclose(as_float, y, atol=1e-5)),
    "posenb_modules": [m for m in sys.modules if m.startswith("posenb") and sys.modules[m] is not None],
}))
"""


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory) -> dict:
    """One export (defaults) of a private copy of the trained demo project."""
    src = Path(trained["config"]).parent
    dst = tmp_path_factory.mktemp("export") / src.name
    shutil.copytree(src, dst, symlinks=True)
    config = str(dst / "config.yaml")
    folder = export_model(config)
    return {"config": config, "folder": folder}


def _frames(cfg: dict, n: int = 6) -> np.ndarray:
    from posenb.data.dataset import read_image

    images = sorted(Path(cfg["project_path"]).glob("labeled-data/*/*.png"))[:n]
    return np.stack([read_image(p) for p in images])


def test_folder_name_and_files(exported):
    cfg = read_config(exported["config"])
    folder = exported["folder"]
    net_type = torch.load(folder / "snapshot-50.pt", weights_only=True)["net_type"]
    expected = f"DLC_{cfg['Task']}_{net_type}_iteration-{cfg['iteration']}_shuffle-1"
    assert folder == Path(cfg["project_path"]) / "exported-models" / expected
    assert {p.name for p in folder.iterdir()} == FILES
    # nothing half-written left next to it
    assert sorted(p.name for p in folder.parent.iterdir()) == [expected, expected + ".tar.gz"]


def test_pose_cfg_sorted_with_real_paths(exported):
    cfg = read_config(exported["config"])
    text = (exported["folder"] / "pose_cfg.yaml").read_text()
    top_keys = [
        line.split(":")[0] for line in text.splitlines() if line and not line[0].isspace() and line[0] != "-"
    ]
    assert top_keys == sorted(top_keys) and len(top_keys) > 8
    pose = yaml.safe_load(text)
    assert pose["all_joints_names"] == cfg["bodyparts"] and pose["num_joints"] == len(cfg["bodyparts"])
    assert pose["global_scale"] == pytest.approx(1.5)  # the snapshot's scale, not the template's
    assert pose["stride"] == 8.0 and pose["location_refinement"] is True
    assert pose["project_path"] == str(Path(cfg["project_path"]))
    assert Path(pose["init_weights"]).parts[-2:] == ("train", "snapshot-50")
    assert Path(pose["snapshot_prefix"]).parts[-2:] == ("train", "snapshot")


def test_weights_only_snapshot_and_readme(exported):
    from posenb.nn.snapshots import load_snapshot

    folder = exported["folder"]
    state = load_snapshot(folder / "snapshot-50.pt")  # weights_only=True inside
    assert "optimizer" not in state and state["iteration"] == 50
    source = yaml.safe_load((folder / "pose_cfg.yaml").read_text())["init_weights"] + ".pt"
    original = torch.load(source, weights_only=True)
    assert all(torch.equal(state["model"][k], v) for k, v in original["model"].items())
    info = json.loads((folder / "README.json").read_text())
    assert info["bodyparts"] == read_config(exported["config"])["bodyparts"]
    assert info["frame_size"] == [128, 96] and info["input_size"] == [192, 144]
    assert info["global_scale"] == pytest.approx(1.5) and info["stride"] == 8.0
    text = (folder / "README.txt").read_text()
    assert "global_scale = 1.5" in text and "(N, 144, 192, 3)" in text


def test_tar_holds_the_folder(exported):
    folder = exported["folder"]
    with tarfile.open(str(folder) + ".tar.gz") as tar:
        names = set(tar.getnames())
    assert names == {folder.name} | {f"{folder.name}/{f}" for f in FILES}


def test_live_model_runs_with_torch_only_and_matches_predictor(exported, tmp_path):
    from posenb.data.augment import rescale

    cfg = read_config(exported["config"])
    frames = _frames(cfg)
    predictor, _ = load_predictor(cfg, 1, 0)
    expected = predictor.predict(frames)  # (n, K, 3) in frame pixels
    small = np.stack([rescale(f, None, predictor.global_scale)[0] for f in frames])
    torch.save(torch.from_numpy(small), tmp_path / "frames.pt")
    (tmp_path / "live.py").write_text(LIVE_SCRIPT)
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "live.py", str(exported["folder"] / "snapshot-50.torchscript.pt"),
         "frames.pt", "poses.pt"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["posenb_modules"] == []
    assert report["bodyparts"] == cfg["bodyparts"] and report["global_scale"] == pytest.approx(1.5)
    assert report["input"] == [192, 144] and report["single_ok"] and report["float_ok"]
    live = torch.load(tmp_path / "poses.pt", weights_only=True).numpy().astype(np.float64)
    assert live.shape == (len(frames), len(cfg["bodyparts"]), 3)
    sx, sy = small.shape[2] / frames.shape[2], small.shape[1] / frames.shape[1]
    live[..., 0] = (live[..., 0] + 0.5) / sx - 0.5
    live[..., 1] = (live[..., 1] + 0.5) / sy - 0.5
    np.testing.assert_allclose(live, expected, atol=1e-3)
    assert np.all(expected[..., 2] > 0.5)  # a trained model: the comparison is about real detections


def test_load_exported_model_predicts_like_predictor(exported):
    cfg = read_config(exported["config"])
    frames = _frames(cfg, 4)
    predictor, _ = load_predictor(cfg, 1, 0)
    live = load_exported_model(exported["folder"], backend="torch")
    assert live.backend == "torch" and live.runner is None
    assert live.bodyparts == cfg["bodyparts"] and live.input_size == (192, 144)
    np.testing.assert_allclose(live.predict(frames), predictor.predict(frames), atol=1e-3)
    np.testing.assert_allclose(live(frames[0]), predictor.predict(frames[:1]), atol=1e-3)
    with pytest.raises(ModelError, match="exported for 192x144"):
        live.predict(np.zeros((1, 100, 128, 3), np.uint8))
    with pytest.raises(torch.jit.Error, match="exported for 192x144"):  # the bare module refuses too
        live.module(torch.zeros(1, 150, 192, 3, dtype=torch.uint8))


def test_wipepaths_overwrite_refusal_and_overwrite(trained_copy):
    project = Path(trained_copy).parent
    folder = export_model(trained_copy, make_tar=False, wipepaths=True, TFGPUinference=False)
    pose = yaml.safe_load((folder / "pose_cfg.yaml").read_text())
    assert all(pose[k] == "TBA" for k in ("init_weights", "project_path", "snapshot_prefix"))
    assert str(project) not in (folder / "pose_cfg.yaml").read_text()
    assert not Path(str(folder) + ".tar.gz").exists()
    before = (folder / "pose_cfg.yaml").read_bytes()

    with pytest.raises(ExportExistsError, match="overwrite=True") as err:
        export_model(trained_copy, make_tar=False)
    assert isinstance(err.value, FileExistsError)  # DeepLabCut raises FileExistsError
    assert (folder / "pose_cfg.yaml").read_bytes() == before

    again = export_model(trained_copy, overwrite=True, snapshotindex=0)
    assert again == folder
    assert yaml.safe_load((folder / "pose_cfg.yaml").read_text())["project_path"] == str(project)
    # no temporary or backup folder left; readable by others like any folder
    assert {p.name for p in folder.parent.iterdir()} == {folder.name, folder.name + ".tar.gz"}
    assert folder.stat().st_mode & 0o755 == 0o755


@pytest.mark.parametrize("net_type", list_backbones())
def test_trace_reproduces_every_backbone(net_type):
    """Every registered backbone traces; the live model equals Predictor.predict on an odd-sized input."""
    torch.manual_seed(0)
    predictor = Predictor(build_model(net_type, 2, pretrained=False), bodyparts=["a", "b"])
    frames = np.random.default_rng(1).integers(0, 256, (2, 44, 60, 3), dtype=np.uint8)
    module, _ = trace_live_model(predictor, frames)
    with torch.inference_mode():
        live = module(torch.from_numpy(frames)).numpy()
    np.testing.assert_allclose(live, predictor.predict(frames), atol=1e-3)


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_load_exported_model_with_a_runtime_predicts_like_predictor(exported, backend):
    """The exported ONNX network run by ONNX Runtime / OpenVINO gives the Predictor's poses (default: "auto")."""
    if importlib.util.find_spec(backend) is None or importlib.util.find_spec("onnx") is None:
        pytest.skip(f'{backend} not installed (pip install "posenb[fast]")')
    cfg = read_config(exported["config"])
    info = json.loads((exported["folder"] / "README.json").read_text())
    assert info["onnx"] == "snapshot-50.onnx"
    frames = _frames(cfg, 4)
    predictor, _ = load_predictor(cfg, 1, 0)
    live = load_exported_model(exported["folder"], backend=backend, threads=1)
    assert live.backend == backend
    np.testing.assert_allclose(live.predict(frames), predictor.predict(frames), atol=1e-2)
    assert load_exported_model(exported["folder"]).backend in ("onnxruntime", "openvino")  # "auto"


def test_load_exported_model_in_bfloat16(exported):
    """precision="bfloat16": OpenVINO computes in bfloat16 (key points close to float32's); TorchScript stays float32."""
    from posenb.infer.backends import native_bf16

    if importlib.util.find_spec("openvino") is None or importlib.util.find_spec("onnx") is None:
        pytest.skip('openvino not installed (pip install "posenb[fast]")')
    if not native_bf16():
        pytest.skip("this CPU has no native bfloat16 (AMX / AVX512-BF16)")
    cfg = read_config(exported["config"])
    frames = _frames(cfg, 4)
    want = load_exported_model(exported["folder"], backend="openvino", threads=1).predict(frames)
    live = load_exported_model(exported["folder"], backend="openvino", threads=1, precision="bfloat16")
    assert (live.backend, live.precision) == ("openvino", "bfloat16")
    got = live.predict(frames)
    assert np.median(np.linalg.norm(got[..., :2] - want[..., :2], axis=-1)) < 0.5
    with pytest.warns(UserWarning, match="TorchScript module runs in float32"):
        assert (
            load_exported_model(exported["folder"], backend="torch", precision="bf16").precision == "float32"
        )


def _small_animal_frames(config, n: int) -> np.ndarray:
    """The demo video's first ``n`` frames (128x96) in the middle of 384x288 frames of their background colour."""
    from posenb.io.video import open_video

    reader = open_video(Path(config).parent / "videos" / "demo_mouse.mp4")
    out = np.empty((n, 288, 384, 3), np.uint8)
    for i in range(n):
        f = reader.read(i)
        out[i] = np.median(np.concatenate([f[0], f[-1]]), axis=0).astype(np.uint8)
        out[i, 96:192, 128:256] = f
    reader.close()
    return out


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_exported_model_follows_a_small_animal_frame_by_frame(trained_copy, backend):
    """Frames much larger than the training crops: the export holds a window model too, and the loaded model
    follows the animal in it one frame at a time (real-time use), with the whole-frame model's key points."""
    missing = importlib.util.find_spec(backend) is None or importlib.util.find_spec("onnx") is None
    if backend != "torch" and missing:
        pytest.skip(f'{backend} not installed (pip install "posenb[fast]")')
    folder = export_model(trained_copy, frame_size=(384, 288), make_tar=False)
    info = json.loads((folder / "README.json").read_text())
    # training crops 192x144 at global_scale 1.5; the frames become 576x432: window 192 + 2 x 48 = 288
    assert info["window"]["side"] == 288 and (folder / info["window"]["torchscript"]).is_file()
    assert info["window"]["torchscript"] == "snapshot-50.window288.torchscript.pt"
    if backend != "torch":
        assert (folder / info["window"]["onnx"]).is_file()
    assert "Following the animal" in (folder / "README.txt").read_text()
    frames = _small_animal_frames(trained_copy, 40)
    whole = load_exported_model(folder, backend=backend, threads=1, dynamic=(False, 0.5, 10))
    live = load_exported_model(folder, backend=backend, threads=1)
    assert live.window == 288 and live.backend == backend and whole.follower is None
    want = whole.predict(frames)
    got = np.concatenate([live.predict(f) for f in frames])  # one frame at a time
    assert live.follower.followed >= 30 and live.follower.side == 288
    dist = np.linalg.norm(got[..., :2] - want[..., :2], axis=-1)
    assert np.median(dist) < 1.5  # the tiny demo model learnt from whole frames (see test_analyze)
    live.reset()
    assert live.follower is None
    with pytest.raises(ModelError, match="exported for 576x432"):
        live.predict(frames[:, :96, :128])

"""README.txt of an ``export_model`` folder: how to use the exported model without posenb."""

from __future__ import annotations

__all__ = ["readme_text"]


def readme_text(info: dict) -> str:
    """README.txt of an export folder from its README.json content ``info``."""
    w, h = info["input_size"]
    fw, fh = info["frame_size"]
    interp = "INTER_AREA" if info["global_scale"] < 1 else "INTER_LINEAR"
    return f"""posenb exported model ({info["format"]})
{"=" * 40}
Project task {info["task"]}, iteration {info["iteration"]}, shuffle {info["shuffle"]}, training fraction \
{info["train_fraction"]}, {info["snapshot"]} ({info["training_iterations"]} iterations), \
net_type {info["net_type"]}.

Files
  {info["torchscript"]}  TorchScript live model: needs only torch (torch.jit.load)
  {info["weights"]}  posenb snapshot, weights only (posenb.infer.predictor / torch.load(weights_only=True))
  pose_cfg.yaml  test pose configuration (keys sorted), README.json  the same facts as this file

Input
  RGB images at network size, shape (N, {h}, {w}, 3) or ({h}, {w}, 3), uint8 or float in 0-255 (not 0-1).
  The module normalises them itself (ImageNet mean / std). Other sizes are refused.
  Frames of the camera ({fw} x {fh}) must first be resized by global_scale = {info["global_scale"]}
  to {w} x {h} (OpenCV INTER_AREA when shrinking, INTER_LINEAR when enlarging).
Output
  (N, K, 3) float32: x, y in pixels of the network input, likelihood in [0, 1];
  K = {len(info["bodyparts"])} body parts in this order: {", ".join(info["bodyparts"])}
  Back to frame pixels: x = (x' + 0.5) / sx - 0.5 with sx = {w} / {fw}; y likewise with sy = {h} / {fh}.
Model
  output stride {info["stride"]} (score maps of ceil(h / {info["stride"]:g}) x ceil(w / {info["stride"]:g}) \
cells), locref_stdev {info["locref_std"]};
  argmax of each score map + location refinement, likelihood = sigmoid(score) at the argmax
  (DeepLabCut's decoding).

Use (torch only)
  import cv2, torch
  model = torch.jit.load("{info["torchscript"]}")          # map_location="cuda" for a GPU
  small = cv2.resize(frame_rgb, ({w}, {h}), interpolation=cv2.{interp})
  with torch.inference_mode():
      pose = model(torch.from_numpy(small))[0]            # (K, 3)
  x = (pose[:, 0] + 0.5) * {fw} / {w} - 0.5;  y = (pose[:, 1] + 0.5) * {fh} / {h} - 0.5
  model.bodyparts, model.global_scale, model.input_width, model.input_height are attributes of the module.
Use (posenb)
  predictor = posenb.infer.export.load_exported_model("<this folder>");  poses = predictor.predict(frames)
{_window_text(info)}
Exported with posenb {info["posenb_version"]}, torch {info["torch_version"]}.
"""


def _window_text(info: dict) -> str:
    """README.txt's lines on the window model, if there is one."""
    window = info.get("window")
    if not window:
        return ""
    side = window["side"]
    return f"""Following the animal (posenb)
  {window["torchscript"]}  the same network for {side} x {side} windows of the resized frame (origin a
  multiple of 32): load_exported_model follows a single animal in such a window frame after frame and
  falls back to the whole frame where the window may miss it (dynamic="auto"; predictor.reset() between
  videos; dynamic=(False, 0.5, 10): whole frames only).
"""

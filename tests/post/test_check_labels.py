"""check_labels: labeled copies of the images, coloured markers where the labels are, clear errors for bad input."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from posenb.errors import ConfigError, LabelError
from posenb.post.check_labels import check_labels, draw_labels, label_colors

BODYPARTS = ["nose", "ear", "tail"]
POINTS = {  # image -> (n_bodyparts, 2) x, y
    "img01.png": [[10.0, 12.0], [40.0, 30.0], [np.nan, np.nan]],
    "img05.png": [[50.2, 8.7], [20.0, 40.0], [70.0, 44.0]],
}


@pytest.fixture
def project(tmp_path, tiny_video):
    """Gray 80x60 images with known labels; skeleton nose-tail in white; alphavalue 1."""
    from posenb.io.labels import array_to_labels, write_labels
    from posenb.project.config import read_config, write_config
    from posenb.project.create import create_new_project

    with contextlib.redirect_stdout(io.StringIO()):
        config = create_new_project("cl", "Ann", [tiny_video], working_directory=tmp_path / "work")
    cfg = read_config(config)
    cfg.update(bodyparts=BODYPARTS, skeleton=[["nose", "tail"]], skeleton_color="white", colormap="rainbow",
               dotsize=7, alphavalue=1.0)  # fmt: skip
    write_config(config, cfg)
    folder = Path(config).parent / "labeled-data" / "tiny"
    for name in POINTS:
        cv2.imwrite(str(folder / name), np.full((60, 80, 3), 128, np.uint8))
    rows = [("labeled-data", "tiny", n) for n in POINTS]
    write_labels(
        array_to_labels(np.array(list(POINTS.values())), "Ann", BODYPARTS, rows),
        folder / "CollectedData_Ann.h5",
    )
    return config, folder


def rgb(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_check_labels_draws_coloured_markers_at_the_labels(project):
    config, folder = project
    out = check_labels(config)
    assert out == [folder.parent / "tiny_labeled"]
    assert sorted(p.name for p in out[0].iterdir()) == sorted(POINTS)
    colors = label_colors("rainbow", 3).astype(int)
    for name, pts in POINTS.items():
        img = rgb(out[0] / name).astype(int)
        assert img.shape == (60, 80, 3)
        for k, (x, y) in enumerate(pts):
            if np.isnan(x):
                continue
            px = img[int(round(y)), int(round(x))]
            assert np.abs(px - colors[k]).max() < 40, (name, k, px, colors[k])  # the body part's colour
            assert px.max() - px.min() > 60  # coloured, not the gray background
        assert (img[0, 0] == 128).all()  # untouched elsewhere
    # skeleton nose-tail (white) is drawn in img05 only (tail unlabeled in img01)
    (x0, y0), (x1, y1) = POINTS["img05.png"][0], POINTS["img05.png"][2]
    mid = rgb(out[0] / "img05.png")[int(round((y0 + y1) / 2)), int(round((x0 + x1) / 2))]
    assert mid.min() > 200


def test_scale_alpha_and_marker(project):
    config, folder = project
    (out,) = check_labels(config, Labels=[".", "+", "x"], scale=2, draw_skeleton=False)
    img = rgb(out / "img01.png")
    assert img.shape == (120, 160, 3)
    assert img[24, 20].max() - img[24, 20].min() > 60  # (10, 12) * 2
    # pure drawing: alpha blends with the image, NaN points are skipped
    base = np.full((20, 20, 3), 100, np.uint8)
    drawn = draw_labels(base, np.array([[10.0, 10.0], [np.nan, 3.0]]), np.array([[255, 0, 0], [0, 255, 0]]),
                        marker=".", dotsize=6, alpha=0.5)  # fmt: skip
    assert tuple(drawn[10, 10]) == (178, 50, 50) and (drawn[0] == 100).all()
    assert (base == 100).all()  # input untouched


def test_missing_image_warns_and_names_it(project):
    config, folder = project
    (folder / "img05.png").unlink()
    with pytest.warns(UserWarning, match=r"img05\.png.*dropannotationfileentriesduetodeletedimages"):
        (out,) = check_labels(config)
    assert [p.name for p in out.iterdir()] == ["img01.png"]


def test_label_file_of_another_scorer(project):
    config, folder = project
    for suffix in (".h5", ".csv"):
        (folder / f"CollectedData_Ann{suffix}").rename(folder / f"CollectedData_Bob{suffix}")
    with pytest.raises(LabelError, match=r"CollectedData_Bob\.h5.*scorer 'Ann'"):
        check_labels(config)


def test_scorer_level_differs_from_config(project):
    from posenb.io.labels import read_labels, write_labels

    config, folder = project
    df = read_labels(folder / "CollectedData_Ann.h5")
    df.columns = df.columns.set_levels(["Bob"], level="scorer")
    write_labels(df, folder / "CollectedData_Ann.h5")
    with pytest.raises(LabelError, match=r"CollectedData_Ann\.h5.*'Bob'.*'Ann'"):
        check_labels(config)


def test_bad_colormap(project):
    config, _ = project
    Path(config).write_text(Path(config).read_text().replace("colormap: rainbow", "colormap: nosuchmap"))
    with pytest.raises(ConfigError, match="nosuchmap"):
        check_labels(config)


@pytest.mark.shared
def test_check_labels_on_the_openfield_demo(openfield_dir, tmp_path):
    """DLC's openfield labels (old single-string index), checked on a copy of three of its images."""
    from posenb.io.labels import read_labels, write_labels

    labels = read_labels(openfield_dir / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5")
    from_csv = read_labels(openfield_dir / "labeled-data" / "m4s1" / "CollectedData_Pranav.csv")
    assert labels.shape == (116, 8) and list(labels.index[0]) == ["labeled-data", "m4s1", "img0000.png"]
    np.testing.assert_allclose(labels.to_numpy(), from_csv.to_numpy(), rtol=0, atol=1e-6)

    project = tmp_path / "openfield"
    (project / "labeled-data" / "m4s1").mkdir(parents=True)
    shutil.copy(openfield_dir / "config.yaml", project / "config.yaml")
    keep = [("labeled-data", "m4s1", n) for n in ("img0000.png", "img0050.png", "img0100.png")]
    for row in keep:
        shutil.copy(openfield_dir.joinpath(*row), project.joinpath(*row))
    write_labels(
        labels.loc[keep], project / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5", backup=False
    )

    (out,) = check_labels(project / "config.yaml")
    assert out == project / "labeled-data" / "m4s1_labeled"
    colors = label_colors("jet", 4).astype(int)
    for row in keep:
        original, drawn = rgb(project.joinpath(*row)).astype(int), rgb(out / row[-1]).astype(int)
        assert drawn.shape == original.shape == (480, 640, 3)
        for k, bp in enumerate(["snout", "leftear", "rightear", "tailbase"]):
            x, y = labels.loc[row, ("Pranav", bp, "x")], labels.loc[row, ("Pranav", bp, "y")]
            px = drawn[int(round(y)), int(round(x))]
            expected = 0.7 * colors[k] + 0.3 * original[int(round(y)), int(round(x))]  # alphavalue 0.7
            assert np.abs(px - expected).max() < 50, (row, bp)
    assert not (openfield_dir / "labeled-data" / "m4s1_labeled").exists()  # nothing written into ../shared


def test_one_colour_rule_for_videos_plots_check_labels_and_panels():
    from posenb.post._common import bodypart_colors

    rgb = bodypart_colors("viridis", 5)
    assert rgb.shape == (5, 3) and 0 <= rgb.min() and rgb.max() <= 1 and len({tuple(c) for c in rgb}) == 5
    assert np.array_equal(label_colors("viridis", 5), np.round(rgb * 255).astype(np.uint8))
    with pytest.raises(ConfigError, match=r"my/config.yaml: unknown colormap 'nope'"):
        bodypart_colors("nope", 3, where="my/config.yaml")
    with pytest.raises(ConfigError, match="unknown colormap"):
        label_colors("nope", 3)
    pytest.importorskip("ipywidgets")
    from posenb.widgets._canvas import part_colors
    from posenb.widgets._review import hex_colors

    assert np.array_equal(part_colors(5, "viridis"), label_colors("viridis", 5))
    assert hex_colors("viridis", 5) == [
        f"#{r:02x}{g:02x}{b:02x}" for r, g, b in label_colors("viridis", 5).astype(int)
    ]


def test_no_other_module_samples_a_colormap():
    """The colour rule has one home (post/_common.bodypart_colors): no other module of posenb, panels included,
    samples a matplotlib colormap itself."""
    import ast
    from pathlib import Path

    import posenb

    root = Path(posenb.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "post" / "_common.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            name = getattr(node, "attr", None) or getattr(node, "id", None)
            if name in ("get_cmap", "colormaps", "resampled"):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {name}")
    assert not found, found

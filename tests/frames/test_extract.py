"""extract_frames: DLC's PNG files, interval, crop, k-means scenes, and frames that must never be touched."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from posenb.errors import ConfigError, PosenbError
from posenb.frames.extract import extract_frames, read_exact_frames, taken_frames


def _scene_frames():
    sys.path.insert(0, str(Path(__file__).parent))
    from test_select import scene_frames

    return scene_frames


def make_project(tmp_path, videos: dict, **config) -> str:
    """A project (videos linked) with ``config`` overrides; ``videos`` maps file names to frame lists."""
    import contextlib
    import io

    from posenb.io.video import write_video
    from posenb.project.config import read_config, write_config
    from posenb.project.create import create_new_project

    paths = [str(write_video(tmp_path / "src" / name, frames, fps=10)) for name, frames in videos.items()]
    with contextlib.redirect_stdout(io.StringIO()):
        cfg_path = create_new_project("ext", "tester", paths, working_directory=tmp_path)
    cfg = read_config(cfg_path)
    cfg.update(config)
    write_config(cfg_path, cfg)
    return cfg_path


def moving_frames(n: int = 60, w: int = 96, h: int = 64) -> list[np.ndarray]:
    """Frame i: a square whose position and colour encode i (every frame different)."""
    out = []
    for i in range(n):
        f = np.full((h, w, 3), 30, np.uint8)
        x = (3 * i) % (w - 12)
        f[10:22, x : x + 12] = (250, 4 * i % 256, 100)
        f[40:, :] = (2 * i) % 256
        out.append(f)
    return out


def decoded(video) -> np.ndarray:
    """All frames of ``video``, decoded sequentially (the reference a PNG must equal)."""
    from posenb.io.video import open_video

    with open_video(video) as r:
        return np.concatenate([b for _, b in r.iter_frames(0, None, 64)])


def png_rgb(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def folder_of(config, stem="vid") -> Path:
    return Path(config).parent / "labeled-data" / stem


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path, {"vid.mp4": moving_frames()}, numframes2pick=8)


@pytest.mark.parametrize("algo", ["uniform", "kmeans"])
def test_extract_writes_dlc_named_pngs_equal_to_frames(project, algo):
    out = extract_frames(project, algo=algo, userfeedback=False, seed=0)
    ((video, picked),) = out.items()
    assert Path(video).stem == "vid" and len(picked) == 8 and picked == sorted(set(picked))
    folder = folder_of(project)
    names = sorted(p.name for p in folder.glob("*.png"))
    assert names == [f"img{i:02d}.png" for i in picked]  # 60 frames -> 2 digits (ceil(log10(60)))
    ref = decoded(Path(project).parent / "videos" / "vid.mp4")
    for i in picked:
        assert np.array_equal(png_rgb(folder / f"img{i:02d}.png"), ref[i])
    assert not list(folder.glob(".*"))  # no temporary files left


def test_read_exact_frames_far_apart_in_a_long_gop(tmp_path):
    """Random access must be frame-exact (decord 3.4 skips inside a GOP can return a wrong frame)."""
    from posenb.io.video import write_video

    frames = moving_frames(240, 160, 120)
    video = write_video(tmp_path / "long.mp4", frames, fps=30)
    ref = decoded(video)
    wanted = [3, 150, 151, 200, 239]
    got = dict(read_exact_frames(video, [239, 3, 150, 151, 200]))
    assert sorted(got) == wanted
    for i in wanted:
        assert np.array_equal(got[i], ref[i])


@pytest.mark.shared
def test_read_exact_frames_on_the_real_mouse_video(openfield_dir):
    """On this file decord 3.4's random access returns a corrupt frame 200; ours must equal the sequential decode."""
    from posenb.io.video import open_video

    video = openfield_dir / "videos" / "m3v1mp4.mp4"
    wanted = {60, 200}
    ref = {}
    with open_video(video) as r:
        for i0, batch in r.iter_frames(0, max(wanted) + 1, 64):
            ref.update({i0 + j: f for j, f in enumerate(batch) if i0 + j in wanted})
    got = dict(read_exact_frames(video, sorted(wanted)))
    assert sorted(got) == sorted(wanted)
    for i in wanted:
        assert np.array_equal(got[i], ref[i])


def test_start_stop_interval(tmp_path):
    config = make_project(tmp_path, {"vid.mp4": moving_frames()}, numframes2pick=6, start=0.5, stop=0.75)
    for algo, seed in [("uniform", 1), ("kmeans", 2)]:
        (picked,) = extract_frames(config, algo=algo, userfeedback=False, seed=seed).values()
        assert len(picked) == 6 and all(30 <= i < 45 for i in picked)


def test_bad_start_stop_is_a_config_error(project):
    text = Path(project).read_text()
    Path(project).write_text(text.replace("stop: 1\n", "stop: 1.5\n"))
    with pytest.raises(ConfigError, match="stop"):
        extract_frames(project, userfeedback=False)
    Path(project).write_text(text.replace("start: 0\n", "start: 0.9\n").replace("stop: 1\n", "stop: 0.2\n"))
    with pytest.raises(ConfigError, match="start"):
        extract_frames(project, userfeedback=False)


def test_crop_true_saves_the_crop_box(project):
    cfg = yaml.safe_load(Path(project).read_text())
    (video,) = cfg["video_sets"]
    cfg["video_sets"][video]["crop"] = "10, 50, 5, 35"
    Path(project).write_text(yaml.safe_dump(cfg, sort_keys=False))
    ref = decoded(Path(project).parent / "videos" / "vid.mp4")
    for algo in ("uniform", "kmeans"):
        (picked,) = extract_frames(project, algo=algo, crop=True, userfeedback=False, seed=3).values()
        assert len(picked) == 8
        for i in picked:
            img = png_rgb(folder_of(project) / f"img{i:02d}.png")
            assert img.shape == (30, 40, 3) and np.array_equal(img, ref[i][5:35, 10:50])


def test_existing_frames_are_never_overwritten_or_deleted(project):
    from posenb.io.labels import array_to_labels, write_labels

    folder = folder_of(project)
    folder.mkdir(parents=True, exist_ok=True)
    mine = np.random.default_rng(0).integers(0, 255, (64, 96, 3), dtype=np.uint8)  # not a frame of the video
    cv2.imwrite(str(folder / "img05.png"), mine)
    (folder / "notes.txt").write_text("keep me")
    labels = array_to_labels(np.array([[[1.0, 2.0]], [[3.0, 4.0]]]), "tester", ["bp"],
                             [("labeled-data", "vid", "img05.png"), ("labeled-data", "vid", "img07.png")])  # fmt: skip
    write_labels(labels, folder / "CollectedData_tester.h5", backup=False)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert taken_frames(folder) == {5, 7}  # img07 is labeled although its PNG is gone

    # ask for every frame: all but the two taken ones are extracted
    Path(project).write_text(Path(project).read_text().replace("numframes2pick: 8", "numframes2pick: 60"))
    (picked,) = extract_frames(project, algo="uniform", userfeedback=False, seed=0).values()
    assert sorted(picked) == [i for i in range(60) if i not in (5, 7)]
    assert not (folder / "img07.png").exists()
    for name, (data, mtime) in before.items():
        assert (folder / name).read_bytes() == data and (folder / name).stat().st_mtime_ns == mtime
    # nothing left to pick: nothing written, nothing removed
    n_files = len(list(folder.iterdir()))
    for algo in ("uniform", "kmeans"):
        assert list(extract_frames(project, algo=algo, userfeedback=False).values()) == [[]]
    assert len(list(folder.iterdir())) == n_files
    assert (folder / "img05.png").read_bytes() == before["img05.png"][0]


def test_second_extraction_adds_replacements_and_keeps_the_first(project):
    folder = folder_of(project)
    (first,) = extract_frames(project, algo="kmeans", userfeedback=False, seed=0).values()
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.png")}
    (second,) = extract_frames(project, algo="kmeans", userfeedback=False, seed=0).values()
    assert len(second) == 8 and not set(first) & set(second)
    assert all((folder / n).stat().st_mtime_ns == t for n, t in stamps.items())
    assert len(list(folder.glob("*.png"))) == 16


def test_kmeans_picks_one_frame_per_scene(tmp_path):
    frames = _scene_frames()(n_scenes=5, per_scene=10)
    config = make_project(tmp_path, {"scenes.mp4": frames}, numframes2pick=5)
    for seed in range(3):
        for p in folder_of(config, "scenes").glob("*.png"):
            p.unlink()
        (picked,) = extract_frames(config, algo="kmeans", userfeedback=False, seed=seed).values()
        assert sorted(i // 10 for i in picked) == [0, 1, 2, 3, 4]


def test_kmeans_options_and_errors(project):
    (picked,) = extract_frames(
        project,
        algo="kmeans",
        userfeedback=False,
        seed=0,
        cluster_step=3,
        cluster_color=True,
        cluster_resizewidth=20,
    ).values()
    assert len(picked) == 8 and all(i % 3 == 0 for i in picked)
    with pytest.raises(ConfigError, match="cluster_resizewidth=200"):
        extract_frames(project, algo="kmeans", userfeedback=False, cluster_resizewidth=200)
    with pytest.raises(ConfigError, match="algo"):
        extract_frames(project, algo="random", userfeedback=False)
    with pytest.raises(ConfigError, match="mode"):
        extract_frames(project, mode="auto", userfeedback=False)


def test_videos_list_and_missing_video(tmp_path, capsys):
    config = make_project(
        tmp_path, {"a.mp4": moving_frames(30), "b.mp4": moving_frames(30)}, numframes2pick=3
    )
    out = extract_frames(config, algo="uniform", userfeedback=False, videos_list=["b"], seed=0)
    assert [Path(v).stem for v in out] == ["b"]
    assert (
        not list(folder_of(config, "a").glob("*.png"))
        and len(list(folder_of(config, "b").glob("*.png"))) == 3
    )
    extract_frames(config, algo="uniform", userfeedback=False, videos_list=["zzz.mp4"])
    assert "zzz.mp4 is not listed in video_sets" in capsys.readouterr().out
    os.remove(tmp_path / "src" / "a.mp4")  # the project's link now points nowhere
    out = extract_frames(config, algo="uniform", userfeedback=False, seed=1)
    assert [Path(v).stem for v in out] == ["b"] and "not found" in capsys.readouterr().out


def test_userfeedback_never_hangs_without_a_terminal(project, capsys, monkeypatch):
    import builtins

    def no_input(*_):
        raise AssertionError("input() must not be called without an interactive stdin")

    monkeypatch.setattr(builtins, "input", no_input)
    out = extract_frames(project, algo="uniform", userfeedback=True, seed=0)
    assert len(next(iter(out.values()))) == 8
    assert "no interactive input available" in capsys.readouterr().out


def test_userfeedback_no_skips_the_video(project, monkeypatch):
    monkeypatch.setattr("posenb.io.prompt.stdin_is_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: "no")
    assert extract_frames(project, algo="uniform", userfeedback=True) == {}
    assert not list(folder_of(project).glob("*.png"))
    monkeypatch.setattr("builtins.input", lambda *_: "yes")
    assert len(next(iter(extract_frames(project, algo="uniform", userfeedback=True).values()))) == 8


def test_core_manual_mode_names_the_panel_and_the_public_function(project):
    with pytest.raises(PosenbError, match=r"frame grabber panel.*posenb.extract_frames.*posenb\[jupyter\]"):
        extract_frames(project, mode="manual")


def test_public_manual_mode_without_widgets_gives_a_clear_message(project, monkeypatch):
    import posenb

    monkeypatch.setitem(sys.modules, "posenb.widgets.frame_grabber", None)  # import fails as if not installed
    with pytest.raises(PosenbError, match=r"FrameGrabber.*posenb\[jupyter\]"):
        posenb.extract_frames(project, mode="manual")


def test_public_manual_mode_opens_the_frame_grabber_on_the_project(project):
    pytest.importorskip("ipywidgets")
    import posenb

    panel = posenb.extract_frames(project, mode="manual")
    assert type(panel).__name__ == "FrameGrabber" and panel.config_path == str(project)
    assert [label for label, _ in panel.video_select.options] == ["vid"]
    assert panel.source is not None and panel.source.n_frames == 60  # the video is open on its first frame


def test_public_api_name(project):
    import posenb

    # the public name is the widgets-level wrapper of this function (manual mode opens a panel)
    assert posenb.extract_frames.__wrapped__ is extract_frames
    out = posenb.extract_frames(project, "automatic", "uniform", userfeedback=False, seed=0)
    (picks,) = out.values()
    assert len(picks) == 8 and sorted(p.name for p in folder_of(project).glob("*.png")) == sorted(
        f"img{i:02d}.png" for i in picks
    )


def test_public_extract_frames_process_imports_no_outlier_or_pandas_module(project):
    """A user's ``python -c "import posenb; posenb.extract_frames(...)"`` (issue 18: the whole process counts)
    extracts the frames without importing posenb.frames.outliers or pandas; extract_outlier_frames still resolves."""
    import subprocess

    code = (
        "import sys, posenb\n"
        f"out = posenb.extract_frames({str(project)!r}, 'automatic', 'kmeans', userfeedback=False, seed=0)\n"
        "print(sorted(len(v) for v in out.values()), 'posenb.frames.outliers' in sys.modules, 'pandas' in sys.modules)\n"
        "f = posenb.extract_outlier_frames\n"
        "print(f.__wrapped__.__module__, 'pandas' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-2:] == ["[8] False False", "posenb.frames.outliers True"]
    assert len(list(folder_of(project).glob("*.png"))) == 8


def test_save_frames_in_two_threads_writes_the_same_files(tmp_path, monkeypatch):
    """Two decoding threads (one reader each) write byte-identical PNGs to one thread's, frame-exact."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_select import _bframe_video

    from posenb.frames import extract as E

    video = _bframe_video(tmp_path / "gops.mp4", n=240, size=(96, 64))  # key frames every 30 frames, B-frames
    ref = decoded(video)
    wanted = [3, 29, 31, 95, 150, 151, 200, 239]
    monkeypatch.setattr(E, "_cores", lambda: 2)
    threads = []
    real = E._encoded_frames
    monkeypatch.setattr(E, "_encoded_frames", lambda *a: threads.append(a[-1]) or real(*a))
    saved2 = E.save_frames(video, wanted[::-1], tmp_path / "two", len(ref), progress=False)
    monkeypatch.setattr(E, "PARALLEL_SAVE_MIN", 10**9)
    saved1 = E.save_frames(video, wanted, tmp_path / "one", len(ref), crop=None, progress=False)
    assert threads == [2, 1]
    assert saved2 == saved1 == wanted
    for i in wanted:
        name = f"img{i:03d}.png"
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
        assert np.array_equal(png_rgb(tmp_path / "two" / name), ref[i])
    assert not list((tmp_path / "two").glob(".*"))
    # cropped, in two threads: the crop box of the same frames
    saved = E.save_frames(
        video, wanted[:5], tmp_path / "crop", len(ref), crop=(10, 60, 5, 45), progress=False
    )
    assert saved == wanted[:5]
    for i in saved:
        assert np.array_equal(png_rgb(tmp_path / "crop" / f"img{i:03d}.png"), ref[i][5:45, 10:60])


def test_save_frames_error_in_a_thread_reaches_the_caller(tmp_path, monkeypatch):
    from posenb.errors import VideoError
    from posenb.frames import extract as E
    from posenb.io.video import write_video

    video = write_video(tmp_path / "v.mp4", moving_frames(40), fps=30)
    monkeypatch.setattr(E, "_cores", lambda: 2)
    with pytest.raises(VideoError, match="does not exist"):
        E.save_frames(video, [1, 2, 3, 5, 7, 90], tmp_path / "out", 40, progress=False)
    # frames of the other thread may be saved; nothing half-written is left
    assert not list((tmp_path / "out").glob(".*"))

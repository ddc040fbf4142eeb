"""analyze_videos under faults (issue 11, item 5): a video counts as analysed only when its outputs are complete
and readable; a run killed with SIGKILL at any moment, or a truncated file, is repaired by the next run."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

CROP = [16, 112, 8, 88]


def _clip(config, folder: Path, n: int = 16) -> Path:
    """The first ``n`` frames of the demo video as a short video of its own."""
    from posenb.io.video import open_video, write_video

    with open_video(Path(config).parent / "videos" / "demo_mouse.mp4") as reader:
        frames = reader.get_batch(list(range(n)))
    folder.mkdir(parents=True, exist_ok=True)
    return Path(write_video(folder / "clip.mp4", frames, fps=30))


def _outputs(dest: Path, scorer: str) -> dict:
    from posenb.io.predictions import predictions_to_array, read_meta, read_predictions

    h5 = dest / f"clip{scorer}.h5"
    return {
        "pred": predictions_to_array(read_predictions(h5)),
        "csv": predictions_to_array(read_predictions(h5.with_suffix(".csv"))),
        "crop": read_meta(h5)["cropping_parameters"],
    }


#: px / likelihood; runs in other processes may differ in the last float bits (thread counts), nothing more
ATOL = 0.05


def _check_same(got: dict, ref: dict) -> None:
    np.testing.assert_allclose(got["csv"], got["pred"], rtol=1e-6)
    np.testing.assert_allclose(got["pred"], ref["pred"], rtol=0, atol=ATOL)
    assert got["crop"] == ref["crop"] and got["pred"].shape == ref["pred"].shape


def test_incomplete_outputs_are_analysed_again(trained, tmp_path, capsys):
    from posenb.infer.analyze import analysis_status, analyze_videos
    from posenb.io.predictions import meta_path, read_predictions, write_predictions
    from posenb.project.config import read_config

    cfg = read_config(trained["config"])
    video = _clip(trained["config"], tmp_path / "videos")
    dest = tmp_path / "out"
    kwargs = dict(destfolder=str(dest), save_as_csv=True, cropping=CROP)
    scorer = analyze_videos(trained["config"], [str(video)], **kwargs)
    h5 = dest / f"clip{scorer}.h5"
    ref = _outputs(dest, scorer)
    assert ref["crop"] == CROP and analysis_status(h5, 16, scorer, cfg["bodyparts"], True) == ""

    def rerun(expect: str) -> None:
        capsys.readouterr()
        analyze_videos(trained["config"], [str(video)], **kwargs)
        assert expect in capsys.readouterr().out
        _check_same(_outputs(dest, scorer), ref)
        assert analysis_status(h5, 16, scorer, cfg["bodyparts"], True) == ""

    meta_path(h5).unlink()  # a run killed right after the .h5 (older posenb wrote the .h5 first)
    rerun("no clip" + scorer + "_meta.pickle")
    h5.write_bytes(h5.read_bytes()[: h5.stat().st_size // 2])  # half-truncated
    rerun("unreadable .h5")
    write_predictions(read_predictions(h5).iloc[:10], h5)  # too few rows
    rerun(".h5 has 10 rows, the video 16 frames")
    h5.with_suffix(".csv").unlink()  # asked for, missing
    rerun("no clip" + scorer + ".csv")
    rerun("already analyzed")
    assert not [p.name for p in dest.iterdir() if p.name.endswith(".tmp")]


def test_twenty_kills_during_analysis_are_repaired(trained, tmp_path):
    from posenb.infer.analyze import analysis_status, analyze_videos
    from posenb.project.config import read_config

    cfg = read_config(trained["config"])
    video = _clip(trained["config"], tmp_path / "videos", n=8)
    ctx = multiprocessing.get_context("forkserver")  # a fresh process per run, forked from one that imported these
    ctx.set_forkserver_preload(["torch", "pandas", "tables", "posenb.infer.analyze", "posenb.infer.predictor"])
    rng = np.random.default_rng(5)
    stats = {"kills": 0, "left_partial": 0, "h5_complete_after_kill": 0}
    for cropping in (None, CROP):
        kwargs = dict(save_as_csv=True, cropping=cropping)
        t0 = time.perf_counter()
        name = "crop" if cropping else "full"
        scorer = analyze_videos(trained["config"], [str(video)], destfolder=str(tmp_path / f"ref-{name}"), **kwargs)
        run_s = time.perf_counter() - t0
        ref = _outputs(tmp_path / f"ref-{name}", scorer)
        dest = tmp_path / name
        h5 = dest / f"clip{scorer}.h5"
        for _ in range(10):
            proc = ctx.Process(target=analyze_videos, args=(trained["config"], [str(video)]),
                               kwargs=dict(destfolder=str(dest), **kwargs))  # fmt: skip
            proc.start()
            time.sleep(rng.uniform(0.0, 1.5 * run_s))
            proc.kill()
            proc.join()
            stats["kills"] += 1
            # whatever the moment: either no .h5, or every output complete (the .h5 is written last)
            if h5.exists():
                assert analysis_status(h5, 8, scorer, cfg["bodyparts"], True) == ""
                stats["h5_complete_after_kill"] += 1
            left = list(dest.iterdir()) if dest.exists() else []
            stats["left_partial"] += bool([p for p in left if p.suffix in (".tmp", ".pickle", ".csv")])
            analyze_videos(trained["config"], [str(video)], destfolder=str(dest), **kwargs)  # the rerun repairs
            _check_same(_outputs(dest, scorer), ref)
            assert not [p.name for p in dest.iterdir() if p.name.endswith(".tmp")]
            for p in dest.iterdir():  # start the next kill from nothing
                p.unlink()
    assert stats["kills"] == 20
    print(stats)


def test_missing_meta_of_a_cropped_project_is_an_error(tmp_path):
    from posenb.errors import LabelError
    from posenb.post._common import crop_offset

    h5 = tmp_path / "vidDLC_x.h5"
    h5.write_bytes(b"")
    with pytest.raises(LabelError, match="vidDLC_x_meta.pickle.*cropping"):
        crop_offset({}, h5=h5, cfg={"cropping": True})
    with pytest.warns(UserWarning, match="vidDLC_x_meta.pickle"):
        assert crop_offset({}, h5=h5, cfg={"cropping": False}) == (0.0, 0.0)
    meta = {"cropping": True, "cropping_parameters": [5, 50, 7, 70]}
    assert crop_offset(meta, h5=h5, cfg={"cropping": True}) == (5.0, 7.0)

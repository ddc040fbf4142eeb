"""Videos on a Dask cluster: the files of a serial run, failures collected, skips, one model per worker."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from demo_clips import demo_clip

from posenb.errors import PosenbError, VideoError
from posenb.io.predictions import read_predictions

N_CLIP = 24  # frames per test video: enough for several batches, cheap on 2 loaded cores


def test_worker_device_index():
    from posenb.infer.distributed import worker_device_index

    assert worker_device_index(None, 0, 0) is None  # no CUDA: CPU
    assert worker_device_index(None, 3, 2) == 1  # LocalCluster names 0, 1, ... spread over the GPUs
    assert worker_device_index(None, "SLURMCluster-7", 1) == 0  # one GPU per job: its device 0
    assert worker_device_index(2, 5, 4) == 2  # gputouse wins


def test_modules_import_without_dask():
    """posenb.infer.analyze and posenb.infer.distributed import without dask (it is an optional extra)."""
    code = (
        "import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
        "import posenb.infer.distributed, posenb.infer.analyze as d\n"
        "from posenb.errors import PosenbError\n"
        "try:\n    d.analyze_videos_dask('x', [])\nexcept PosenbError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'pip install "posenb[cluster]"' in out.stdout


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    # process workers, as on a real cluster: each imports torch and posenb itself
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _clip(config, dst: Path) -> Path:
    """The first N_CLIP frames of the demo video as a new mp4."""
    return demo_clip(config, dst, N_CLIP)


def _outputs(h5: Path):
    from posenb.io.predictions import read_predictions

    with open(h5.with_name(h5.stem + "_meta.pickle"), "rb") as fh:
        meta = pickle.load(fh)["data"]
    csv = pd.read_csv(h5.with_suffix(".csv"), header=[0, 1, 2], index_col=0)
    return read_predictions(h5), meta, csv


@pytest.mark.slow
def test_dask_analysis_matches_serial_and_reports_failures(trained, tmp_path, client):
    from posenb.infer.analyze import analyze_videos, analyze_videos_dask
    from posenb.infer.distributed import VideoAnalysisError, worker_model_loads

    config = trained["config"]
    vids = tmp_path / "videos"
    vids.mkdir()
    clip = _clip(config, tmp_path / "clip.mp4")
    good = [vids / f"mouse{k}.mp4" for k in range(4)]
    for v in good:
        shutil.copy(clip, v)
    done = vids / "done.mp4"
    shutil.copy(clip, done)
    bad = vids / "bad.mp4"
    bad.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # truncated: no moov atom, unreadable

    serial = tmp_path / "serial"
    scorer = analyze_videos(config, [str(v) for v in [*good, done]], destfolder=str(serial), save_as_csv=True)

    out = tmp_path / "dask"
    out.mkdir()
    for f in serial.glob("done*"):  # already analysed in the destination: must be skipped
        shutil.copy(f, out / f.name)
    done_h5 = out / f"done{scorer}.h5"
    mtime = done_h5.stat().st_mtime_ns

    with pytest.raises(VideoAnalysisError, match="bad.mp4") as info:
        analyze_videos_dask(
            config, str(vids), client=client, videotype="mp4", destfolder=str(out), save_as_csv=True
        )
    err = info.value
    results = err.results
    assert set(results) == {str(v.resolve()) for v in [*good, done, bad]}
    assert list(err.failed) == [str(bad.resolve())]
    assert isinstance(err.failed[str(bad.resolve())], VideoError)
    assert isinstance(results[str(bad.resolve())], VideoError)
    assert "1 of 5 video(s)" in str(err) and str(bad.resolve()) in str(err)
    assert not list(out.glob("bad*"))

    # the others: DeepLabCut's files, identical to the serial run
    for v in good:
        h5 = out / f"{v.stem}{scorer}.h5"
        assert results[str(v.resolve())] == str(h5)
        df, meta, csv = _outputs(h5)
        ref_df, ref_meta, ref_csv = _outputs(serial / h5.name)
        assert len(df) == N_CLIP and df.columns.equals(ref_df.columns) and df.index.equals(ref_df.index)
        np.testing.assert_allclose(df.to_numpy(), ref_df.to_numpy(), rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(csv.to_numpy(), ref_csv.to_numpy(), rtol=1e-5, atol=1e-4)
        assert set(meta) == set(ref_meta)
        for key in ("Scorer", "nframes", "frame_dimensions", "batch_size", "cropping_parameters", "snapshot"):
            assert meta[key] == ref_meta[key], key

    # the analysed one was skipped, not rewritten
    assert results[str(done.resolve())] == str(done_h5)
    assert done_h5.stat().st_mtime_ns == mtime

    # one model per worker for 4 videos, and torch limited to the worker's one thread
    loads = client.run(worker_model_loads)
    assert len(loads) == 2 and sum(loads.values()) >= 1 and max(loads.values()) == 1
    import torch

    assert set(client.run(torch.get_num_threads).values()) == {1}

    # analyze_videos(client=...) reuses the workers' models; errors="warn" returns instead of raising
    (out / f"mouse0{scorer}.h5").unlink()
    with pytest.raises(VideoAnalysisError, match="bad.mp4"):
        analyze_videos(config, [str(good[0]), str(bad)], client=client, destfolder=str(out), save_as_csv=True)
    np.testing.assert_allclose(
        _outputs(out / f"mouse0{scorer}.h5")[0].to_numpy(),
        _outputs(serial / f"mouse0{scorer}.h5")[0].to_numpy(),
        rtol=1e-5,
        atol=1e-4,
    )
    with pytest.warns(UserWarning, match="bad.mp4"):
        again = analyze_videos_dask(
            config, [str(good[1]), str(bad)], client=client, destfolder=str(out), errors="warn"
        )
    assert again[str(good[1].resolve())] == str(out / f"mouse1{scorer}.h5")
    assert isinstance(again[str(bad.resolve())], VideoError)
    assert client.run(worker_model_loads) == loads


def _meta(h5: Path) -> dict:
    with open(h5.with_name(h5.stem + "_meta.pickle"), "rb") as fh:
        return pickle.load(fh)["data"]


@pytest.mark.slow
def test_dask_analysis_uses_the_callers_backend_and_precision(trained, tmp_path, client):
    """analyze_videos(client=..., backend=, precision=): the workers analyse as a serial run with the same
    arguments does, and the meta files say so (bfloat16 where the CPU has it, else float32 and a warning)."""
    import warnings

    from posenb.errors import ConfigError
    from posenb.infer.analyze import analyze_videos
    from posenb.infer.backends import native_bf16

    config = trained["config"]
    clip = _clip(config, tmp_path / "clip.mp4")
    asked = dict(backend="torch", precision="bfloat16")  # "auto" would pick OpenVINO where installed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scorer = analyze_videos(
            config, [str(clip)], client=client, destfolder=str(tmp_path / "dask"), **asked
        )
        analyze_videos(config, [str(clip)], destfolder=str(tmp_path / "serial"), **asked)
    fell_back = [w for w in caught if "precision='bfloat16' not used for 1 video(s)" in str(w.message)]
    meta = _meta(tmp_path / "dask" / f"clip{scorer}.h5")
    serial = _meta(tmp_path / "serial" / f"clip{scorer}.h5")
    want = "bfloat16" if native_bf16() else "float32"  # the workers run on this machine's CPU
    assert (meta["posenb_backend"], meta["posenb_precision"]) == ("torch", want)
    assert (serial["posenb_backend"], serial["posenb_precision"]) == ("torch", want)
    assert len(fell_back) == (0 if native_bf16() else 1)
    with pytest.raises(ConfigError, match="Unknown precision 'int4'"):  # before anything is submitted
        analyze_videos(config, [str(clip)], client=client, destfolder=str(tmp_path / "x"), precision="int4")
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_dask_analysis_carries_the_test_scales(trained, tmp_path, client):
    """analyze_videos(client=..., test_scales=...): the workers analyse at the caller's scales, as a serial run does,
    and the meta files say so; bad scales fail before anything is submitted."""
    from posenb.errors import ConfigError
    from posenb.infer.analyze import analyze_videos, analyze_videos_dask

    config = trained["config"]
    clip = _clip(config, tmp_path / "clip.mp4")
    asked = dict(backend="torch", test_scales=[1.1, 1.25])
    scorer = analyze_videos(config, [str(clip)], client=client, destfolder=str(tmp_path / "dask"), **asked)
    analyze_videos(config, [str(clip)], destfolder=str(tmp_path / "serial"), **asked)
    dask, serial = (read_predictions(tmp_path / d / f"clip{scorer}.h5") for d in ("dask", "serial"))
    np.testing.assert_allclose(dask.to_numpy(), serial.to_numpy(), atol=1e-4)
    assert _meta(tmp_path / "dask" / f"clip{scorer}.h5")["posenb_test_scales"] == [1.1, 1.25]
    with pytest.raises(ConfigError, match="test_scales must be between"):
        analyze_videos_dask(
            config, [str(clip)], client=client, destfolder=str(tmp_path / "x"), test_scales=[9]
        )
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_dask_bfloat16_on_a_worker_without_it_is_float32_and_said(trained, tmp_path, monkeypatch):
    """A worker whose CPU has no native bfloat16 (patched: a thread worker shares this process) analyses in
    float32, its meta file says so, and the caller is warned naming the video."""
    distributed = pytest.importorskip("distributed")
    import torch

    import posenb.infer.backends as B
    from posenb.infer.analyze import analyze_videos_dask

    monkeypatch.setattr(B, "native_bf16", lambda: False)
    # a thread worker would set this (the test) process's torch threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    clip = _clip(trained["config"], tmp_path / "clip.mp4")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        with pytest.warns(UserWarning, match=r"precision='bfloat16' not used for 1 video\(s\).*clip\.mp4"):
            results = analyze_videos_dask(trained["config"], [str(clip)], client=client, backend="torch",
                                          precision="bf16", destfolder=str(tmp_path / "out"))  # fmt: skip
    meta = _meta(Path(results[str(clip.resolve())]))
    assert (meta["posenb_backend"], meta["posenb_precision"]) == ("torch", "float32")


def test_without_a_client_says_how_to_get_one(monkeypatch):
    distributed = pytest.importorskip("distributed")
    from posenb.infer.analyze import analyze_videos_dask

    def no_client():
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "default_client", no_client)
    with pytest.raises(PosenbError, match="(?s)No Dask client.*LocalCluster"):
        analyze_videos_dask("no/config.yaml", [])  # the client is checked first

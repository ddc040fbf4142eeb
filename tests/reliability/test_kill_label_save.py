"""A label save is one atomic step for every reader, even under ``kill -9`` (issue 11, item 4).

A child process saves a growing label table in a loop (save ``k`` holds ``k`` labeled images) and is killed with
SIGKILL at random moments, 50 times. After every kill the files on disk must be: a readable ``.h5`` holding a
complete save no older than the last one the child saw finish (0 lost points); readable ``.bak`` files; a
``.csv`` in step with the ``.h5`` (at once, or -- only when the kill fell between the two renames -- after
:func:`settle_labels`, which the next save runs); and no temporary file left once the next save is done.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from posenb.io.atomic import backup_path
from posenb.io.labels import read_labels, settle_labels, write_labels

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

SCORER = "Kim"
PARTS = ["nose", "tail", "paw"]


def _table(k: int):
    """Save number ``k``: ``k`` images, values that identify the save and the image."""
    from posenb.io.labels import array_to_labels

    images = [("labeled-data", "vid", f"img{i:05d}.png") for i in range(k)]
    arr = np.zeros((k, len(PARTS), 2))
    for i in range(k):
        arr[i, :, 0] = [i + 0.25, i + 0.5, np.nan if i % 7 == 3 else i + 0.75]
        arr[i, :, 1] = [2 * i + 0.125, 1000.0 - i, 3.5]
    return array_to_labels(arr, SCORER, PARTS, images)


def _which_save(df) -> int:
    """The save number ``df`` is; AssertionError when it is not exactly one complete save."""
    k = len(df)
    expected = _table(k)
    assert list(df.index) == list(expected.index)
    np.testing.assert_array_equal(df.to_numpy(), expected.to_numpy())
    return k


def _read(path: Path):
    """read_labels, also for ``*.csv.bak`` (a CSV under another suffix)."""
    if path.name.endswith(".csv.bak"):
        probe = path.with_name(".probe.csv")
        probe.write_bytes(path.read_bytes())
        try:
            return read_labels(probe)
        finally:
            probe.unlink()
    return read_labels(path)


def _saver(h5: Path, start: int, fd: int) -> None:  # pragma: no cover - runs in the forked child
    try:
        for k in range(start, start + 100000):
            write_labels(_table(k), h5)
            os.write(fd, f"{k}\n".encode())
    finally:
        os._exit(0)


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_fifty_kills_during_label_saves(tmp_path):
    folder = tmp_path / "labeled-data" / "vid"
    h5 = folder / f"CollectedData_{SCORER}.h5"
    csv = h5.with_suffix(".csv")
    write_labels(_table(1), h5)
    t0 = time.perf_counter()
    write_labels(_table(1), h5)
    save_s = time.perf_counter() - t0  # kills land anywhere in the first ~3 saves, however fast this machine is
    rng = np.random.default_rng(11)
    last = 1
    stats = {"kills": 0, "raw_csv_behind": 0, "temps_after_kill": 0}
    for _ in range(50):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            os.close(r)
            _saver(h5, last + 1, w)
        os.close(w)
        time.sleep(rng.uniform(0.0, 3.0 * save_s))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        acked = os.read(r, 1 << 20).decode().split()
        os.close(r)
        stats["kills"] += 1
        done = int(acked[-1]) if acked else last

        # the .h5 (the commit point) is a complete save: the last one finished, or the one being made
        k = _which_save(read_labels(h5))
        assert done <= k <= done + 1, (done, k)
        for bak in (backup_path(h5), backup_path(csv)):
            if bak.exists():
                assert _which_save(_read(bak)) <= k  # never a partial backup
        stats["temps_after_kill"] += bool(_temps(folder))
        k_csv = _which_save(read_labels(csv))
        if k_csv != k:  # only possible between the two renames; the killed save's temp file marks it
            stats["raw_csv_behind"] += 1
            assert _temps(folder), "csv out of step with no trace of a killed save"
        settle_labels(h5)
        assert _which_save(read_labels(csv)) == k
        if backup_path(h5).exists() and backup_path(csv).exists():
            assert _which_save(_read(backup_path(csv))) == _which_save(_read(backup_path(h5)))

        # the next save leaves no temporary file behind and keeps the pair in step
        last = k + 1
        t0 = time.perf_counter()
        write_labels(_table(last), h5)
        save_s = time.perf_counter() - t0
        assert _temps(folder) == []
        assert _which_save(read_labels(h5)) == _which_save(read_labels(csv)) == last
    assert stats["kills"] == 50 and stats["temps_after_kill"] > 0  # the kills did hit saves in progress
    print(stats)


def _fork_and_die_in(h5: Path, k: int, patch) -> None:
    """Run ``write_labels(_table(k))`` in a child that dies (like kill -9: no cleanup) where ``patch`` says."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            patch()
            write_labels(_table(k), h5)
        finally:
            os._exit(3)
    os.waitpid(pid, 0)


def test_kill_between_the_two_renames_is_settled_from_the_h5(tmp_path):
    import posenb.io.atomic as atomic

    h5 = tmp_path / f"CollectedData_{SCORER}.h5"
    csv = h5.with_suffix(".csv")
    write_labels(_table(3), h5)
    write_labels(_table(4), h5)

    def die_after_h5_rename():
        real = os.replace

        def replace(src, dst):
            real(src, dst)
            if str(dst).endswith(".h5"):
                os._exit(9)

        atomic.os.replace = replace

    _fork_and_die_in(h5, 5, die_after_h5_rename)
    assert len(read_labels(h5)) == 5 and len(read_labels(csv)) == 4  # the raw pair: the .csv one save behind
    assert [t for t in _temps(tmp_path) if ".csv." in t]  # ... marked by the killed save's csv temp
    assert settle_labels(h5) is True
    assert _which_save(read_labels(csv)) == 5 and _temps(tmp_path) == []
    assert _which_save(_read(backup_path(h5))) == _which_save(_read(backup_path(csv))) == 4
    assert settle_labels(h5) is False  # nothing left to do: a hand-edited csv is never rewritten


def test_kill_while_copying_the_backup_keeps_the_old_backup(tmp_path):
    import shutil

    import posenb.io.atomic as atomic

    h5 = tmp_path / f"CollectedData_{SCORER}.h5"
    write_labels(_table(3), h5)
    write_labels(_table(4), h5)  # .bak = save 3

    def die_mid_copy():
        def copy2(src, dst):
            Path(dst).write_bytes(Path(src).read_bytes()[:100])  # a half-made copy
            os._exit(9)

        atomic.shutil.copy2 = copy2

    _fork_and_die_in(h5, 5, die_mid_copy)
    assert shutil.copy2 is not None
    assert _which_save(_read(backup_path(h5))) == 3 and _which_save(read_labels(h5)) == 4
    assert _temps(tmp_path)  # the half copy is a temp file, never the .bak
    write_labels(_table(5), h5)
    assert _temps(tmp_path) == [] and _which_save(_read(backup_path(h5))) == 4


def test_failed_write_touches_neither_file(tmp_path):
    h5 = tmp_path / f"CollectedData_{SCORER}.h5"
    write_labels(_table(2), h5)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    bad = _table(3).astype(object)
    bad.iloc[0, 0] = "not a number"
    with pytest.raises(ValueError):
        write_labels(bad, h5)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_temps_of_a_running_writer_are_left_alone(tmp_path):
    from posenb.io.atomic import clean_stale_temps, temp_path

    target = tmp_path / "f.txt"
    alive = tmp_path / f".f.txt.{os.getppid()}.abcd1234.tmp"  # our parent is running
    alive.write_text("in progress")
    dead = tmp_path / ".f.txt.999999999.abcd1234.tmp"  # no such pid
    dead.write_text("killed")
    mine = temp_path(target)  # being written by this process (another thread)
    mine.write_text("busy")
    assert clean_stale_temps(target) == [dead]
    assert alive.exists() and mine.exists()

"""The allowed-roots rule of the dashboards (issue 11, item 2): every escape route is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from posenb.io.roots import ENV_VAR, OutsideRootsError, allowed_roots, confine, is_inside, parent_within


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "project" / "videos").mkdir(parents=True)
    (root / "project" / "videos" / "a.mp4").write_bytes(b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("no")
    (root / "link-out").symlink_to(outside)
    (root / "project" / "link-in").symlink_to(root / "project" / "videos")
    return root, outside


def test_inside_paths_are_accepted_and_resolved(tree):
    root, _ = tree
    assert confine(root / "project" / "videos" / "a.mp4", [root]) == (root / "project/videos/a.mp4").resolve()
    assert confine("project/videos", [root]) == (root / "project" / "videos").resolve()  # relative: from the root
    assert confine(root, [root]) == root.resolve()
    assert confine(root / "project" / "link-in", [root]) == (root / "project" / "videos").resolve()  # link inside
    assert confine(root / "project" / ".." / "project", [root]) == (root / "project").resolve()


@pytest.mark.parametrize(
    "escape",
    [
        "../outside/secret.txt",  # '..' relative
        "{root}/project/../../outside",  # '..' in an absolute path
        "{root}/link-out/secret.txt",  # a symbolic link pointing out
        "{root}/link-out",
        "/etc/passwd",  # an absolute path
        "/",
        "~",  # the home folder (outside the tmp tree)
    ],
)
def test_every_escape_route_is_refused(tree, escape):
    root, _ = tree
    path = escape.format(root=root)
    with pytest.raises(OutsideRootsError, match="outside the folders this dashboard may open") as err:
        confine(path, [root])
    assert path in str(err.value) and ENV_VAR in str(err.value)
    assert isinstance(err.value, PermissionError)
    assert not is_inside(path, [root])


def test_a_root_that_is_a_prefix_string_is_not_a_parent(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data-other").mkdir()
    with pytest.raises(OutsideRootsError):
        confine(tmp_path / "data-other", [tmp_path / "data"])


def test_empty_path_is_refused(tree):
    with pytest.raises(OutsideRootsError, match="No path"):
        confine("  ", [tree[0]])


def test_up_stops_at_the_root(tree):
    root, _ = tree
    videos = root / "project" / "videos"
    assert parent_within(videos, [root]) == (root / "project").resolve()
    assert parent_within(root / "project", [root]) == root.resolve()
    assert parent_within(root, [root]) is None  # at the root: no further up
    assert parent_within(root / "link-out", [root]) is None  # a link out resolves outside: no parent inside
    assert parent_within("/", ["/"]) is None


def test_allowed_roots_from_start_arguments_and_environment(tree, tmp_path, monkeypatch):
    root, outside = tree
    monkeypatch.chdir(root)
    env = {ENV_VAR: f"{outside}{os.pathsep}{tmp_path / 'missing'}{os.pathsep}"}
    roots = allowed_roots(root / "project", None, [str(root / "project")], env=env)
    assert roots == [root.resolve(), (root / "project").resolve(), outside.resolve()]  # missing ones dropped
    assert allowed_roots(start=outside, env={}) == [outside.resolve()]
    monkeypatch.setenv(ENV_VAR, str(outside))
    assert outside.resolve() in allowed_roots()
    assert Path(confine(outside / "secret.txt", allowed_roots())).name == "secret.txt"


def test_the_start_folder_of_a_dashboard_comes_from_its_environment(tree, monkeypatch):
    """Voila runs the kernel in the notebook's folder: ``posenb dashboard`` passes where it was started."""
    from posenb.io.roots import START_ENV_VAR

    root, outside = tree
    monkeypatch.chdir(outside)
    assert allowed_roots(env={START_ENV_VAR: str(root)}) == [root.resolve()]
    assert allowed_roots(env={}) == [outside.resolve()]

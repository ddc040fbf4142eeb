"""Short clips of the demo project's video for the analysis tests."""

from __future__ import annotations

from pathlib import Path


def demo_clip(config, dst: Path, n_frames: int) -> Path:
    """The first ``n_frames`` frames of the demo project's ``videos/demo_mouse.mp4`` written to ``dst`` (mp4)."""
    from posenb.io.video import VideoWriter, open_video

    reader = open_video(Path(config).parent / "videos" / "demo_mouse.mp4")
    with VideoWriter(dst, reader.fps, (reader.width, reader.height)) as w:
        for i in range(n_frames):
            w.write(reader.read(i))
    reader.close()
    return dst

"""Helpers for widget tests: record what widgets send to the browser, decode ipycanvas commands, fake DOM events."""

from __future__ import annotations

import json


def record_messages(monkeypatch) -> list:
    """Record every comm message sent by widgets (``(comm, msg_type, data, buffers)``) in the returned list."""
    import comm

    messages = []

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        messages.append((self, msg_type, data, buffers or []))

    monkeypatch.setattr(comm.DummyComm, "publish_msg", publish_msg)
    return messages


def canvas_commands(messages) -> list[tuple[str, list, list]]:
    """ipycanvas drawing commands in ``messages``: ``(name, args, buffers)``, batches flattened."""
    from ipycanvas.canvas import _CMD_LIST

    out = []
    for _comm, kind, data, buffers in messages:
        if kind != "comm_msg" or not isinstance(data, dict) or data.get("method") != "custom" or not buffers:
            continue
        content = data.get("content")
        if not (isinstance(content, dict) and "shape" in content and "dtype" in content):
            continue
        try:
            commands = json.loads(bytes(buffers[0]).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        rest = list(buffers[1:])
        if commands and not isinstance(commands[0], list):
            commands = [commands]
        for cmd in commands:
            name = _CMD_LIST[cmd[0]]
            n_buf = cmd[2] if len(cmd) > 2 else 0
            out.append((name, cmd[1] if len(cmd) > 1 else [], [bytes(b) for b in rest[:n_buf]]))
            rest = rest[n_buf:]
    return out


def send_custom(widget, content: dict) -> None:
    """Deliver a custom message from the 'browser' through the widget's comm (the kernel's real path)."""
    widget.comm.handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def dom_event(
    kind: str,
    x: float | None = None,
    y: float | None = None,
    canvas_css=(640, 480),
    left=8.0,
    top=30.0,
    **extra,
):
    """An ipyevents event dict as the browser sends it, for a canvas displayed at ``canvas_css`` CSS pixels."""
    ev = {
        "type": kind,
        "altKey": False,
        "ctrlKey": False,
        "metaKey": False,
        "shiftKey": False,
        "button": 0,
        "buttons": 0,
    }
    if x is not None:
        ev.update(
            clientX=left + x,
            clientY=top + y,
            relativeX=round(x),
            relativeY=round(y),
            boundingRectLeft=left,
            boundingRectTop=top,
            boundingRectWidth=float(canvas_css[0]),
            boundingRectHeight=float(canvas_css[1]),
        )
    ev.update(extra)
    return ev

"""The playground server at the protocol level, through Starlette's TestClient (in process,
no network): frames and their layout, play / pause / step / reset, bad messages answered
without harm, a diverging run, uploads, exports, closed tabs ending their threads, and 20
clients at once."""

from __future__ import annotations

import io
import json
import struct
import threading
import time
import zipfile

import numpy as np
import pytest
from starlette.testclient import TestClient

from jaxmlp.playground.server import create_app


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def decode(data: bytes) -> tuple[dict, bytes]:
    n = struct.unpack("<I", data[:4])[0]
    return json.loads(data[4 : 4 + n]), data[4 + n :]


def until(ws, want, limit: float = 60.0):
    """Messages until ``want(message)`` is true (binary ones decoded): (message, texts seen)."""
    texts: list[dict] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        m = ws.receive()
        if m.get("bytes") is not None:
            item = decode(m["bytes"])
        elif m.get("text") is not None:
            item = json.loads(m["text"])
            texts.append(item)
        else:
            raise AssertionError(f"connection closed: {m}")
        if want(item):
            return item, texts
    raise AssertionError("nothing wanted came")


def is_frame(item) -> bool:
    return isinstance(item, tuple) and item[0]["type"] == "frame"


def test_the_page_and_its_assets_come_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    assert "http" not in page.text.replace("http://www.w3.org", "")  # nothing from elsewhere
    assert "//" not in client.get("/static/style.css").text.replace("/*", "")


def test_settings_play_pause_step_reset(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "settings", "settings": {"dataset": "xor", "hidden": [5, 3]},
                      "seq": 7})  # fmt: skip
        (header, payload), texts = until(ws, is_frame)
        data = next(t for t in texts if t["type"] == "data")
        assert data["seq"] == 7  # the page keeps only its latest request's answer
        assert len(data["points"]) == 500 and data["settings"]["hidden"] == [5, 3]
        assert header["epoch"] == 0 and header["widths"] == [5, 3] and header["k"] == 2
        g, ng = header["grid"], header["ngrid"]
        assert len(payload) == 2 * g * g + (5 + 3) * ng * ng
        assert [len(W) for W in header["weights"]] == [2, 5, 3]
        ws.send_json({"type": "play"})
        frames = [until(ws, lambda i: is_frame(i) and i[0]["epoch"] >= 40)[0][0]]
        ws.send_json({"type": "pause"})
        status, _ = until(ws, lambda i: isinstance(i, dict) and i["type"] == "status"
                          and not i["playing"])  # fmt: skip
        history = np.array(frames[-1]["history"], float)
        assert history[-1, 1] < history[0, 1]  # the training loss fell
        ws.send_json({"type": "step"})
        stepped, _ = until(ws, is_frame)
        assert stepped[0]["epoch"] == status["epoch"] + 1
        ws.send_json({"type": "reset"})
        reset, _ = until(ws, is_frame)
        assert reset[0]["epoch"] == 0 and reset[1][: 2 * g * g] == payload[: 2 * g * g]


def test_bad_messages_are_answered_and_the_connection_lives(client):
    with client.websocket_connect("/ws") as ws:
        bad = ["not json", json.dumps([1, 2]), json.dumps({"type": "explode"}),
               json.dumps({"type": "point", "x": 99, "y": 0, "label": 0}),
               json.dumps({"type": "point", "x": 0, "y": 0, "label": "blue"}),
               json.dumps({"type": "settings", "settings": {"activation": "softsign"}}),
               json.dumps({"type": "speed", "epochs": 1000}),
               json.dumps({"type": "ensemble", "n": 100000}),
               "x" * (2 << 20)]  # fmt: skip
        for text in bad:
            ws.send_text(text)
        ws.send_bytes(b"\x00\x01")
        errors = []
        while len(errors) < len(bad) + 1:
            m = ws.receive_json()
            if m["type"] == "error":
                errors.append(m["message"])
        joined = "\n".join(errors)
        for part in (
            "not JSON",
            "unknown message type 'explode'",
            "'x' must be from -6 to 6",
            "class index 'label'",
            "softsign",
            "epochs per frame must be 1 to 16",
            "seeds must be 2 to 64",
            "the limit is 1048576",
            "binary messages",
        ):
            assert part in joined
        ws.send_json({"type": "settings", "settings": {"hidden": [1000] * 9}})
        _, texts = until(ws, lambda i: is_frame(i) and i[0]["widths"] == [64] * 6)
        notices = [t["message"] for t in texts if t["type"] == "notice"]
        assert "9 hidden layers asked for" in notices[0] and len(notices) == 7


def test_a_diverging_run_says_so_and_can_be_reset(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json(
            {
                "type": "settings",
                "settings": {
                    "activation": "identity",
                    "hidden": [8, 8, 8],
                    "learning_rate": 3,
                },
            }
        )
        until(ws, is_frame)
        ws.send_json({"type": "play"})
        status, _ = until(ws, lambda i: isinstance(i, dict) and i["type"] == "status"
                          and i["message"].startswith("diverged at epoch"))  # fmt: skip
        assert not status["playing"]
        ws.send_json({"type": "settings", "settings": {"learning_rate": 0.03}})
        ws.send_json({"type": "reset"})
        ws.send_json({"type": "step"})
        frame, _ = until(ws, lambda i: is_frame(i) and i[0]["epoch"] == 1)
        assert frame[0]["diverged"] == 0 and np.isfinite(frame[0]["history"][-1][1])


def test_uploads_and_clicked_points(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "upload", "csv": "a,b,label\n1,2,x\n"})
        err, _ = until(ws, lambda i: isinstance(i, dict) and i["type"] == "error")
        assert "one class" in err["message"]
        ws.send_json({"type": "upload", "csv": "a,b,label\n" + "1,2,x\n" * 10_000_000})
        err, _ = until(ws, lambda i: isinstance(i, dict) and i["type"] == "error")
        assert "the limit is" in err["message"]
        rng = np.random.RandomState(0)
        rows = "\n".join(f"{x:.3f},{y:.3f},{'abc'[k]}" for (x, y), k in
                         zip(rng.normal(size=(90, 2)), np.arange(90) % 3, strict=True))  # fmt: skip
        ws.send_json({"type": "upload", "csv": "u,v,kind\n" + rows})
        (header, _), texts = until(ws, is_frame)
        data = next(t for t in texts if t["type"] == "data")
        assert data["classes"] == ["a", "b", "c"] and header["k"] == 3
        assert data["settings"]["dataset"] == "custom"
        ws.send_json({"type": "point", "x": 1.0, "y": -2.0, "label": 3})
        (header, _), texts = until(ws, is_frame)
        data = next(t for t in texts if t["type"] == "data")
        assert (
            len(data["points"]) == 91 and header["k"] == 4 and data["points"][-1][:3] == [1, -2, 3]
        )


def test_export_report_baseline_and_ensemble(client, tmp_path):
    import jaxmlp

    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "settings", "settings": {"features": ["x1^2", "x2^2"]}})
        ws.send_json({"type": "step"})
        for kind in ("export", "report", "baseline"):
            ws.send_json({"type": kind})
        ws.send_json({"type": "ensemble", "n": 4})
        got = {}
        while len(got) < 4:
            item, _ = until(ws, lambda i: isinstance(i, tuple) and i[0]["type"] != "frame")
            got[item[0].get("name", item[0]["type"])] = item
        zipfile.ZipFile(io.BytesIO(got["playground-model.zip"][1])).extractall(tmp_path)
        model = jaxmlp.load(tmp_path / "playground-model")
        assert model.n_features_in_ == 2
        assert got["playground-report.html"][1].startswith(b"<!DOCTYPE html>")
        header, payload = got["baseline"]
        assert len(payload) == 2 * header["grid"] ** 2 and 0 <= header["test_accuracy"] <= 1
        header, payload = got["ensemble"]
        assert header["n"] == 4 and len(payload) == 3 * header["grid"] ** 2


def _workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "jaxmlp-playground"}


def test_closing_a_tab_ends_its_worker_within_a_second(client):
    before = _workers()
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "play"})
        until(ws, lambda i: is_frame(i) and i[0]["epoch"] > 5)
        (mine,) = _workers() - before  # one worker thread per tab
        assert mine.is_alive()
    mine.join(timeout=1.0)
    assert not mine.is_alive()


def test_twenty_clients_are_served_at_once(client):
    sockets = [client.websocket_connect("/ws") for _ in range(20)]
    opened = [s.__enter__() for s in sockets]
    try:
        for i, ws in enumerate(opened):
            ws.send_json({"type": "settings", "settings": {"seed": i}})
            ws.send_json({"type": "play"})
        epochs = [until(ws, lambda i: is_frame(i) and i[0]["epoch"] >= 3)[0][0]["epoch"]
                  for ws in opened]  # fmt: skip
        assert min(epochs) >= 3
    finally:
        for s in sockets:
            s.__exit__(None, None, None)


@pytest.mark.slow
@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_a_busy_port_is_refused_with_a_suggestion(host):
    import socket
    import subprocess
    import sys

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        proc = subprocess.run([sys.executable, "-m", "jaxmlp.cli", "playground", "--host", host,
                               "--port", str(port)], capture_output=True, text=True,
                              timeout=120)  # fmt: skip
    finally:
        busy.close()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"port {port}" in proc.stderr and f"--port {port + 1}" in proc.stderr
    assert ("not on loopback" in proc.stderr) == (host == "0.0.0.0")

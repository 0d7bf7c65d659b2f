"""The dashboard served by the real `streamlit run` on a free localhost port, as `mdt-dashboard
run` serves it: what the browser tests and the benchmark's browser figure drive with Debian's
Chromium (Playwright's own browser download is never used)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from dashboard import store

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_SECONDS = 60
# True once the app has finished running its script (Streamlit's own state on its root element;
# the running indicator can be missing from a short run).
SCRIPT_DONE_JS = """() => document.querySelector("[data-testid='stApp']")
  ?.getAttribute("data-test-script-state") === 'notRunning'"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    db: Path
    process: subprocess.Popen


def launch(db: Path, log_path: Path, as_of: dt.date) -> Server:
    """Start `streamlit run` on the store `db` with the as-of date fixed, and wait until it
    answers; the server's output goes to `log_path`, which a failure to start quotes."""
    port = free_port()
    env = {**os.environ, store.DB_ENV: str(db), "MDT_AS_OF": as_of.isoformat()}
    with open(log_path, "a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.serve", "run", str(APP),
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return Server(url, db, proc)
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the dashboard did not start:\n{log_path.read_text()}")
        time.sleep(0.3)


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()

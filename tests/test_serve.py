"""`signoff serve` runs gunicorn with the web app: it answers the login page on the bound port and stops on SIGTERM."""

import os
import subprocess
import sys
import urllib.request

from engine.bench.http import free_port, wait_until_serving
from tests.conftest import ROOT

STOP_SECONDS = 30


def test_signoff_serve_answers_the_login_page_and_stops(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SIGNOFF_")}
    env.update(SIGNOFF_DATABASE_URL=f"sqlite:///{tmp_path / 'signoff.db'}", SIGNOFF_VAR_DIR=str(tmp_path / "var"))
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--bind", f"127.0.0.1:{port}",
                                    "--workers", "2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(port, process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
                assert response.status == 200
                assert b"password" in response.read().lower()
        finally:
            process.terminate()
            returncode = process.wait(STOP_SECONDS)
    assert returncode == 0, log.read_text()
    assert "gunicorn" in log.read_text().lower() or "Listening at" in log.read_text(), log.read_text()


def test_signoff_serve_refuses_a_bind_without_a_port(tmp_path):
    env = {**os.environ, "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'signoff.db'}"}
    done = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--bind", "localhost"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "--bind takes HOST:PORT" in done.stderr

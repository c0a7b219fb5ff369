"""`python -m webapp.demo` end to end: it seeds, prints the logins, serves the pages and stops on Ctrl+C."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.conftest import ROOT

START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(tmp_path, port: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SIGNOFF_")}
    env.update(SIGNOFF_VAR_DIR=str(tmp_path / "var"), SIGNOFF_PORT=port, PYTHONUNBUFFERED="1")
    return env


def _wait_for(url: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the demo server exited early:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {START_SECONDS} s:\n{log.read_text()}")


def _wait_for_text(log, pattern: str) -> re.Match:
    deadline = time.monotonic() + 10
    while not (match := re.search(pattern, log.read_text())) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert match, log.read_text()
    return match


def test_the_demo_serves_a_seeded_company_and_stops_cleanly(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "webapp.demo"], cwd=ROOT, env=_env(tmp_path, str(port)),
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(f"{base}/login", process, log)
        password = _wait_for_text(log, r"password for all: (\S+)\)").group(1)
        admin = _wait_for_text(log, r"(\S+@\S+)\s+admin\b").group(1)
        banner = log.read_text()
        assert f"{base}/login" in banner and f"{base}/portal/login" in banner and f"{base}/dev/mailbox" in banner
        assert "manager" in banner and "employee" in banner and "Ctrl+C to stop" in banner
        contact = _wait_for_text(log, r"(\S+@harbourview\S+)").group(1)

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = opener.open(f"{base}/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "email": admin, "password": password}).encode()
        with opener.open(f"{base}/login", data=body, timeout=30) as response:
            assert response.status == 200 and "/login" not in response.url
        customers = opener.open(f"{base}/customers", timeout=10).read().decode()
        assert "Harbour View Dental" in customers

        mailbox = urllib.request.urlopen(f"{base}/dev/mailbox", timeout=10).read().decode()
        assert contact in mailbox and "invitation" in mailbox.lower()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def test_a_bad_port_is_refused_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "webapp.demo"], cwd=ROOT, env=_env(tmp_path, "abc"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "signoff demo: SIGNOFF_PORT must be a port number between 1 and 65535, not 'abc'"
    assert not (tmp_path / "var").exists()  # nothing was created


def test_a_port_in_use_is_refused_with_a_clear_message(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "webapp.demo"], cwd=ROOT, env=_env(tmp_path, str(port)),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr and "Traceback" not in result.stderr

"""HTTP under load: gunicorn (`signoff serve`'s command) on a free loopback port, driven by a bounded client.

`clients` threads share a fixed number of requests and a time cap; they alternate between the portal approvals
page (as the seeded contact) and the staff inbox (as the seeded manager), each request with its session
cookie. A request that fails, times out or answers other than 200 is an error; unsent requests when the time
cap ends the run are reported as `not_sent`.

With the latencies it reports where the CPU went during the load (engine.bench.cpu): the gunicorn processes'
and the load generator's CPU per request, and how many of the machine's cores were busy. Closed-loop clients
with no think time keep every core busy, so p95 follows clients x CPU per request / cores: these say what p95
the machine allows and which side spends it.
"""

import http.client
import itertools
import socket
import subprocess
import threading
import time

from sqlalchemy import make_url

from engine.bench.common import p95
from engine.bench.cpu import backends_delta_s, busy_cores, machine_ticks, postgres_backends_cpu_s, tree_cpu_s
from engine.bench.reads import INBOX_PATH, PORTAL_PATH, Seeded
from engine.config import PROJECT_ROOT
from engine.webserver import gunicorn_command, gunicorn_env

HOST = "127.0.0.1"
START_S = 60
REQUEST_TIMEOUT_S = 30
POLL_S = 0.2  # how often the bench asks whether the server answers yet (an external process: no barrier)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, cookie: str = "") -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_until_serving(port: int, process: subprocess.Popen, path: str = "/login") -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"http: gunicorn exited with {process.returncode} before serving")
        try:
            if _get(port, path) == 200:
                return
        except OSError:
            pass
        time.sleep(POLL_S)
    raise RuntimeError(f"http: gunicorn did not answer {path} within {START_S} s")


def _load(port: int, targets: list[tuple[str, str, str]], clients: int, requests: int, seconds: float) -> dict:
    """Run the bounded load; returns latencies (ms) per target name and the error count."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            n = next(counter)
            if n >= requests:
                return
            name, path, cookie = targets[n % len(targets)]
            started = time.perf_counter()
            try:
                status = _get(port, path, cookie)
            except OSError as err:
                status, reason = 0, f"{path}: {err}"
            else:
                reason = f"{path}: status {status}"
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies[name].append(elapsed)
                if status != 200:
                    errors.append(reason)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    ticks, cpu, started = machine_ticks(), time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, client_cpu, ticks_after = time.perf_counter() - started, time.process_time() - cpu, machine_ticks()
    sent = sum(len(v) for v in latencies.values())
    return {"latencies": latencies, "errors": errors, "sent": sent, "seconds": elapsed, "client_cpu_s": client_cpu,
            "busy_cores": busy_cores(ticks, ticks_after), "cores": ticks_after.cores if ticks_after else None}


def _per_request_ms(seconds: float | None, sent: int) -> float | None:
    return seconds / sent * 1000 if seconds is not None and sent else None


def measure_http(url: str, seeded: Seeded, workers: int, clients: int, requests: int, seconds: float) -> dict:
    port = free_port()
    process = subprocess.Popen(gunicorn_command(f"{HOST}:{port}", workers), cwd=PROJECT_ROOT,
                               env=gunicorn_env(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(port, process)
        targets = [("portal", PORTAL_PATH, f"signoff_portal={seeded.contact_token}"),
                   ("inbox", INBOX_PATH, f"signoff_staff={seeded.manager_token}")]
        for _, path, cookie in targets:  # every page answers before the clock starts
            if (status := _get(port, path, cookie)) != 200:
                raise RuntimeError(f"http: {path} answered {status} before the load")
        database = make_url(url).database if url.startswith("postgresql") else None
        backends, server_cpu = postgres_backends_cpu_s(database) if database else None, tree_cpu_s(process.pid)
        run = _load(port, targets, clients, requests, seconds)
        after = tree_cpu_s(process.pid)
        server_cpu = after - server_cpu if server_cpu is not None and after is not None else None
        database_cpu = backends_delta_s(backends, postgres_backends_cpu_s(database)) if database else None
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    every = [ms for values in run["latencies"].values() for ms in values]
    return {"workers": workers, "clients": clients, "requests": requests, "sent": run["sent"],
            "not_sent": requests - run["sent"], "errors": len(run["errors"]), "error_examples": run["errors"][:5],
            "seconds": run["seconds"], "per_s": run["sent"] / run["seconds"],
            "p95_ms": p95(every) if every else float("inf"),
            **{f"{name}_p95_ms": p95(ms) for name, ms in run["latencies"].items() if ms},
            "server_cpu_ms_per_request": _per_request_ms(server_cpu, run["sent"]),
            "client_cpu_ms_per_request": _per_request_ms(run["client_cpu_s"], run["sent"]),
            "database_cpu_ms_per_request": _per_request_ms(database_cpu, run["sent"]),
            "busy_cores": run["busy_cores"], "cores": run["cores"]}

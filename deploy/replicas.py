"""N processes of the app behind HAProxy with sticky sessions, all on one machine.

    python deploy/replicas.py --replicas 2 --port 8080     # then open http://127.0.0.1:8080

Each app process is ``streamlit run app.py`` on its own port of 127.0.0.1, all sharing one cookie
secret; HAProxy (Debian's ``haproxy``) listens on ``--port`` with ``deploy/haproxy.cfg`` and
keeps every browser on one process by a cookie (a Streamlit session lives in one process). Each
process has its own training queue: VAE_TRAIN_WORKERS, when unset, gives each its share of the
cores. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path(__file__).resolve().parent / "haproxy.cfg"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
COOKIE = "VAE_REPLICA"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_config(app_ports: list[int]) -> str:
    """deploy/haproxy.cfg with one ``server`` line per app process (r1, r2, …)."""
    servers = "".join(f"    server r{i} 127.0.0.1:{port} cookie r{i} check inter 2s\n"
                      for i, port in enumerate(app_ports, 1))
    return CONFIG.read_text() + servers


def wait_healthy(url: str, timeout: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text()[-2000:]}")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s: {log.read_text()[-2000:]}")


class Replicas:
    """``with Replicas(2) as site: site.url``: the app processes, then the proxy; stopped in reverse."""

    def __init__(self, replicas: int = 2, port: int | None = None, log_dir: Path | None = None,
                 app_root: Path = ROOT, env: dict | None = None, haproxy: str = HAPROXY) -> None:
        if not Path(haproxy).is_file():
            raise FileNotFoundError(f"HAProxy is not installed ({haproxy} is missing): apt-get install haproxy")
        self.replicas, self.haproxy, self.app_root = replicas, haproxy, Path(app_root)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="vae-replicas-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **(env or {})}
        if "VAE_TRAIN_WORKERS" not in self.env:  # the machine's training workers, shared out
            self.env["VAE_TRAIN_WORKERS"] = str(max(1, ((os.cpu_count() or 1) - 1) // replicas))
        self.app_ports = [free_port() for _ in range(replicas)]
        self.processes: list[subprocess.Popen] = []
        self._logs: list = []

    @property
    def app_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.app_ports]

    def _spawn(self, args: list[str], name: str, env: dict) -> tuple[subprocess.Popen, Path]:
        log = self.log_dir / f"{name}.log"
        handle = open(log, "w")
        self._logs.append(handle)
        process = subprocess.Popen(args, cwd=self.app_root, env=env, stdout=handle, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process, log

    def start(self, timeout: float = 90.0) -> "Replicas":
        secret = secrets.token_hex(16)  # one secret: a cookie any process signed, the others accept
        try:
            env = {**self.env, "STREAMLIT_SERVER_COOKIE_SECRET": secret}  # Streamlit takes it from here only
            apps = [self._spawn([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                                 "--server.address", "127.0.0.1", "--server.port", str(port),
                                 "--browser.gatherUsageStats", "false",
                                 "--server.fileWatcherType", "none", "--server.runOnSave", "false"],
                                f"app-{port}", env) for port in self.app_ports]
            for url, (process, log) in zip(self.app_urls, apps):
                wait_healthy(url, timeout, process, log)
            config = self.log_dir / "haproxy.cfg"
            config.write_text(haproxy_config(self.app_ports))
            proxy, log = self._spawn([self.haproxy, "-f", str(config), "-db"], "haproxy",
                                     {**self.env, "VAE_PROXY_BIND": f"127.0.0.1:{self.port}"})
            wait_healthy(self.url, timeout, proxy, log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):  # the proxy first, then the apps
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.processes.clear()
        for handle in self._logs:
            handle.close()
        self._logs.clear()

    def __enter__(self) -> "Replicas":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python deploy/replicas.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="app processes (default 2)")
    parser.add_argument("--port", type=int, default=8080, help="the proxy's port on 127.0.0.1 (default 8080)")
    args = parser.parse_args(argv)
    try:
        site = Replicas(args.replicas, args.port).start()
    except (FileNotFoundError, RuntimeError) as e:
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 1
    print(f"{args.replicas} app processes behind {site.url} (logs in {site.log_dir}); Ctrl-C stops them", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping and all(p.poll() is None for p in site.processes):
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

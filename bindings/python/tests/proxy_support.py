"""Real proxies for the proxy tests: scripts/proxies.sh (tinyproxy, squid, stunnel, dante)."""

from __future__ import annotations

import os
import subprocess
from typing import Dict

from conftest import REPO

SCRIPT = os.path.join(REPO, "scripts", "proxies.sh")


class Proxies:
    """The proxies started in ``directory``; ``ports`` holds scripts/proxies.sh's ports.env."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        done = subprocess.run(["bash", SCRIPT, "start", directory], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        self.ports: Dict[str, str] = dict(
            line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)

    def url(self, scheme: str, key: str, userinfo: str = "") -> str:
        return f"{scheme}://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.ports[key]}"

    def stop(self) -> None:
        subprocess.run(["bash", SCRIPT, "stop", self.directory], check=False, timeout=60)

"""Shared bootstrap for the Python peers: make sure `websockets` is importable.

If the interpreter running the script lacks `websockets`, re-exec the script with
the peers venv ($WSKIT_PEERS_DIR/venv, default <repo>/.peers/venv) when it exists.
"""

import os
import sys

# websockets' asyncio API refuses messages of more than 4096 frames (TooManyFragments,
# close 1009); the cap is read from this variable when websockets.asyncio.messages is
# imported. Lift it so that a long message in small frames is not refused.
os.environ.setdefault("WEBSOCKETS_MAX_FRAGMENTS", str(2**31))

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def peers_dir() -> str:
    return os.path.join(REPO_ROOT, os.environ.get("WSKIT_PEERS_DIR", ".peers"))


def ensure_websockets() -> None:
    try:
        import websockets  # noqa: F401
        return
    except ImportError:
        pass
    venv_python = os.path.join(peers_dir(), "venv", "bin", "python")
    if os.path.exists(venv_python) and not os.environ.get("WSKIT_PEER_REEXEC"):
        os.environ["WSKIT_PEER_REEXEC"] = "1"
        os.execv(venv_python, [venv_python, *sys.argv])
    sys.stderr.write("python `websockets` is not installed: run scripts/setup-peers.sh\n")
    sys.exit(1)

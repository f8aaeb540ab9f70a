"""Client auto-reconnect (``connect(..., reconnect=True)``): the keyword options, applied to a
``wskit_config``, the per-connection callbacks, and what a connection reports about it
(:class:`ReconnectState`). See docs/reconnect.md.

Retries are timers of the context's loop, never sleeps: closing, aborting or
:meth:`Connection.stop_reconnect` return at once whether or not a retry is pending.
"""

from __future__ import annotations

from ctypes import byref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Union

from . import _native
from ._config import seconds_to_ms
from ._native import UndeliveredReason, lib

if TYPE_CHECKING:
    from ._connection import Connection

#: What an ``on_reconnect`` callback returns: None or True (go on after the announced delay), a
#: number (seconds: go on after that delay instead) or False (stop: the connection closes).
ReconnectAnswer = Union[None, bool, float, int]
ReconnectCallback = Callable[["Connection", int, float, str], ReconnectAnswer]
UndeliveredCallback = Callable[["Connection", Union[str, bytes], str], None]

#: ``UNDELIVERED`` event reasons as the binding names them.
REASONS = {
    UndeliveredReason.QUEUE_FULL: "queue_full",
    UndeliveredReason.EXHAUSTED: "exhausted",
    UndeliveredReason.STOPPED: "stopped",
}

_KEYS = ("reconnect", "reconnect_min_delay", "reconnect_max_delay", "reconnect_max_attempts",
         "reconnect_stable_after", "offline_queue", "on_reconnect", "on_undelivered")


@dataclass(frozen=True)
class ReconnectState:
    """:meth:`Connection.reconnect_state`: ``attempt`` (attempts since the last stable
    connection), ``waiting`` (a retry is pending: no socket), and the offline queue's
    ``queued_messages`` / ``queued_bytes``."""

    attempt: int
    waiting: bool
    queued_messages: int
    queued_bytes: int


@dataclass
class ReconnectOptions:
    """The reconnect keyword options of a ``connect`` call (taken out of its ``**options``)."""

    min_delay: float = 0.5
    max_delay: float = 30.0
    max_attempts: Optional[int] = None
    stable_after: float = 10.0
    offline_queue: int = 0
    on_reconnect: Optional[ReconnectCallback] = None
    on_undelivered: Optional[UndeliveredCallback] = None

    @classmethod
    def take(cls, options: Dict[str, Any]) -> Optional["ReconnectOptions"]:
        """Removes the reconnect keywords from ``options``; None unless ``reconnect=True``.
        Raises ValueError for bad values, or reconnect options without ``reconnect=True``."""
        given = {key: options.pop(key) for key in _KEYS if key in options}
        enabled = bool(given.pop("reconnect", False))
        given = {k: v for k, v in given.items() if v is not None}
        if not enabled:
            if given:
                raise ValueError(f"{', '.join(sorted(given))}: these need reconnect=True")
            return None
        out = cls(
            min_delay=float(given.get("reconnect_min_delay", 0.5)),
            max_delay=float(given.get("reconnect_max_delay", 30.0)),
            max_attempts=given.get("reconnect_max_attempts"),
            stable_after=float(given.get("reconnect_stable_after", 10.0)),
            offline_queue=int(given.get("offline_queue", 0)),
            on_reconnect=given.get("on_reconnect"),
            on_undelivered=given.get("on_undelivered"),
        )
        if out.min_delay <= 0 or out.max_delay < out.min_delay:
            raise ValueError("reconnect needs 0 < reconnect_min_delay <= reconnect_max_delay")
        if out.max_attempts is not None and out.max_attempts < 1:
            raise ValueError("reconnect_max_attempts must be >= 1 (None: no limit)")
        if out.offline_queue < 0:
            raise ValueError("offline_queue must be >= 0 (bytes; 0: sends fail with NotConnected)")
        return out

    def apply(self, config: Any) -> None:
        """Sets these options on a ``wskit_config``."""
        lib.wskit_config_set_reconnect(config, max(1, seconds_to_ms(self.min_delay)),
                                       max(1, seconds_to_ms(self.max_delay)))
        lib.wskit_config_set_reconnect_max_attempts(config, self.max_attempts or 0)
        lib.wskit_config_set_reconnect_stable_after_ms(config, seconds_to_ms(self.stable_after))
        lib.wskit_config_set_offline_queue_bytes(config, self.offline_queue)


def state_of(conn: "Connection") -> ReconnectState:
    out = _native.wskit_reconnect_state()
    lib.wskit_conn_reconnect_state(conn._ptr(), conn.id, byref(out))
    return ReconnectState(out.attempt, out.waiting, out.queued_messages, out.queued_bytes)


def answer(conn: "Connection", result: ReconnectAnswer) -> None:
    """Applies what an ``on_reconnect`` callback returned."""
    if result is None or result is True:
        return
    if result is False:
        lib.wskit_conn_stop_reconnect(conn._ptr(), conn.id)
        return
    lib.wskit_conn_reconnect_delay(conn._ptr(), conn.id, seconds_to_ms(float(result)))

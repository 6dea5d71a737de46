"""A limit on failed authentication: a client that sent ``auth_failure_limit`` wrong or
unknown bearer tokens within ``auth_failure_window`` seconds gets 429
``auth.too_many_failures`` (with ``Retry-After``) for every request carrying a token until
the oldest of those failures is older than the window — without its token being checked,
so a guesser learns nothing from the refused attempts, and they cost the server no scrypt.

Clients are told apart by their address as the server sees it (behind a reverse proxy,
uvicorn's ``--forwarded-allow-ips`` makes that the proxy's ``X-Forwarded-For``). The count
lives in each server worker: with W workers a client gets at most W × the limit per window.
Requests without a token (every read) are never limited here.

>>> limiter = FailedAuthLimiter(limit=2, window=60, clock=lambda: 0.0)
>>> limiter.failed("10.0.0.1"); limiter.retry_after("10.0.0.1") is None
True
>>> limiter.failed("10.0.0.1"); limiter.retry_after("10.0.0.1")
60
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from helsestat.errors import PermissionDenied

#: Clients remembered at once; the longest-quiet are forgotten first, so a flood from many
#: addresses cannot grow the table without bound.
MAX_CLIENTS = 10_000


class FailedAuthLimiter:
    """Failed authentications per client over a sliding window (thread-safe: the routes'
    dependencies run in worker threads)."""

    def __init__(
        self,
        *,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try a token again (None: it may now)."""
        now = self._clock()
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return None
            while failures and now - failures[0] >= self.window:
                failures.popleft()
            if not failures:
                del self._failures[client]
                return None
            if len(failures) < self.limit:
                return None
            return max(1, math.ceil(self.window - (now - failures[0])))

    def failed(self, client: str) -> None:
        """Count one failed authentication of ``client``."""
        now = self._clock()
        with self._lock:
            failures = self._failures.pop(client, None)
            if failures is None:
                failures = deque(maxlen=self.limit)
            failures.append(now)
            self._failures[client] = failures  # most recent last
            while len(self._failures) > self._max_clients:
                self._failures.popitem(last=False)

    def check(self, client: str) -> None:
        """Raise 429 ``auth.too_many_failures`` while ``client`` is over the limit."""
        wait = self.retry_after(client)
        if wait is not None:
            raise PermissionDenied(
                "auth.too_many_failures",
                f"too many failed authentications from this client: {self.limit} within "
                f"{self.window:g} s",
                hint=f"check the token; wait {wait} s (Retry-After) before trying again",
                status=429,
                details={"retry_after": wait},
            )


__all__ = ["MAX_CLIENTS", "FailedAuthLimiter"]

"""Running the API in several worker processes (``helsestat serve`` with
``HELSESTAT_WORKERS`` > 1).

Each worker gets its own listening socket on the same port with ``SO_REUSEPORT``, and Linux
spreads new connections over them by a hash of the addresses. With one shared socket the
kernel hands a burst of connections to whichever worker accepts first — often all of them
to one, which then serves every keep-alive request of a connection pool (a reverse proxy,
a load generator) while the others idle. Where ``SO_REUSEPORT`` does not exist the workers
share one socket.

The sockets are made here with ``IPPROTO_TCP`` so that asyncio sets ``TCP_NODELAY`` on their
connections (uvicorn's own ``--workers`` socket has protocol 0, and keep-alive responses
then wait for Nagle's algorithm, about 40 ms each).

>>> s = listening_socket("127.0.0.1", 0, reuse_port=False)
>>> s.getsockname()[0], s.proto == socket.IPPROTO_TCP
('127.0.0.1', True)
>>> s.close()
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to ``host:port``, listening, inheritable by worker processes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _OwnSockets(Multiprocess):
    """One socket per worker (a worker the supervisor restarts listens on all of them)."""

    def init_processes(self) -> None:
        for sock in self.sockets:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)


def run_workers(config: uvicorn.Config, host: str, port: int, workers: int) -> None:
    """Serve ``config``'s app in ``workers`` processes on ``host:port`` until stopped."""
    if hasattr(socket, "SO_REUSEPORT"):
        first = listening_socket(host, port, reuse_port=True)
        bound = first.getsockname()[1]  # port 0: the others join the port the first got
        rest = [listening_socket(host, bound, reuse_port=True) for _ in range(workers - 1)]
        _OwnSockets(config, sockets=[first, *rest]).run()
    else:
        Multiprocess(config, sockets=[listening_socket(host, port, reuse_port=False)]).run()


__all__ = ["listening_socket", "run_workers"]

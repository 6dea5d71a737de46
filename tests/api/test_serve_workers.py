"""``helsestat serve`` with two workers, over real HTTP: each worker has its own socket on
the port (SO_REUSEPORT), so a pool of keep-alive connections is spread over both (Linux)."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import httpx
import pytest

from serve_process import helsestat_serve


def _connections_by_process(pids: list[int], port: int) -> Counter[int]:
    """Established connections to ``port`` per process, from /proc (Linux)."""
    inodes = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes[link[8:-1]] = pid
    owners: Counter[int] = Counter()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        if local_port == port and state == "01" and inode in inodes:
            owners[inodes[inode]] += 1
    return owners


@pytest.mark.slow
def test_two_workers_share_the_connections(tmp_path: Path) -> None:
    with helsestat_serve(tmp_path, workers=2) as (base, server):
        port = int(base.rsplit(":", 1)[1])
        children = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=False
        ).stdout.split()  # the two workers (and multiprocessing's resource tracker)
        # 40 clients, each one keep-alive connection held open: every worker owns some
        clients = [httpx.Client(base_url=base) for _ in range(40)]
        try:
            assert all(c.get("/health").status_code == 200 for c in clients)
            owners = _connections_by_process([int(c) for c in children], port)
        finally:
            for c in clients:
                c.close()
        assert sum(owners.values()) == 40
        assert len([pid for pid, n in owners.items() if n > 0]) == 2, owners

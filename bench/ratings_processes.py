"""CPU per process for bench/ratings.py: the processes of the network (found by the
gateway's port, then by parent), their CPU ticks from /proc, sampled during the load."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any


# ---------------------------------------------------------------------------- CPU per process
def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw if a]


def _proc_name(pid: int) -> str:
    args = _cmdline(pid)
    if "launcher.service_main" in args:
        rest = args[args.index("launcher.service_main") + 1:]
        if rest[:1] == ["participation"] and "--town" in rest:
            return "participation/" + rest[rest.index("--town") + 1]
        return rest[0] if rest else "service"
    if args and args[0].endswith("beam.smp"):
        return "rabbitmq (beam.smp, shared)"
    if pid == os.getpid():
        return "bench (this process)"
    if "up" in args and any("soesmart" in a for a in args):
        return "soesmart up"
    return " ".join(args)[:40] or str(pid)


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])


def descendants(root: int) -> set[int]:
    parents = {int(e): _ppid(int(e)) for e in os.listdir("/proc") if e.isdigit()}
    found, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in found:
                found.add(child)
                frontier.append(child)
    return found


def _listener_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1:port (the gateway), from /proc (read only)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                link = os.readlink(f"/proc/{entry}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


def network_root(port: int) -> int | None:
    """`soesmart up` serving this port if there is one, else the gateway process itself."""
    gateway = _listener_pid(port)
    if gateway is None:
        return None
    parent = _ppid(gateway)
    if parent and _proc_name(parent) == "soesmart up":
        return parent
    return gateway


def cpu_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class CpuSampler(threading.Thread):
    """Reads /proc once a second: CPU of the services, RabbitMQ and this process (read only)."""

    def __init__(self, root: int | None, interval: float = 1.0) -> None:
        super().__init__(name="cpu-sampler", daemon=True)
        self.root = root
        self.interval = interval
        self.hz = os.sysconf("SC_CLK_TCK")
        self.stop_event = threading.Event()
        self.peak: dict[str, float] = {}
        self.first: dict[int, tuple[float, int]] = {}
        self.last: dict[int, tuple[float, int]] = {}
        self.names: dict[int, str] = {}
        self.host_first = self._host()
        self.host_last = self.host_first

    @staticmethod
    def _host() -> tuple[int, int]:
        parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = parts[3] + parts[4]
        return sum(parts), idle

    def _scan(self) -> None:
        pids = descendants(self.root) if self.root else set()
        pids.add(os.getpid())
        for entry in os.listdir("/proc"):
            if entry.isdigit() and _cmdline(int(entry))[:1] and \
                    _cmdline(int(entry))[0].endswith("beam.smp"):
                pids.add(int(entry))
        for pid in pids:
            if pid not in self.names:
                self.names[pid] = _proc_name(pid)

    def sample(self) -> None:
        self._scan()
        now = time.perf_counter()
        for pid, name in list(self.names.items()):
            ticks = cpu_ticks(pid)
            if ticks is None:
                continue
            prev = self.last.get(pid)
            if prev is not None and now > prev[0]:
                pct = 100.0 * (ticks - prev[1]) / self.hz / (now - prev[0])
                self.peak[name] = max(self.peak.get(name, 0.0), pct)
            self.first.setdefault(pid, (now, ticks))
            self.last[pid] = (now, ticks)
        self.host_last = self._host()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        average: dict[str, float] = {}
        seconds: dict[str, float] = {}
        for pid, (t_first, c_first) in self.first.items():
            t_last, c_last = self.last[pid]
            if t_last > t_first:
                name = self.names[pid]
                used = (c_last - c_first) / self.hz
                seconds[name] = seconds.get(name, 0.0) + used
                average[name] = average.get(name, 0.0) + 100.0 * used / (t_last - t_first)
        total = self.host_last[0] - self.host_first[0]
        busy = total - (self.host_last[1] - self.host_first[1])
        cores = os.cpu_count() or 1
        host = 100.0 * busy / total if total else None
        return {
            "cores": cores,
            "host_busy_percent": round(host, 1) if host is not None else None,
            # what the rest of the machine used meanwhile (in % of one core), e.g. other jobs
            "others_percent": round(max(0.0, host * cores - sum(average.values())), 1)
            if host is not None else None,
            "average_percent": {k: round(v, 1) for k, v in
                                sorted(average.items(), key=lambda kv: -kv[1])},
            "peak_percent": {k: round(self.peak.get(k, 0.0), 1) for k in
                             sorted(average, key=lambda k: -average[k])},
            "cpu_seconds": {k: round(v, 3) for k, v in
                            sorted(seconds.items(), key=lambda kv: -kv[1])},
        }


# ---------------------------------------------------------------------------- --start

"""Run a command as a child process and measure it: wall time, CPU time, peak RSS of its tree.

Shared by the benchmarks. ``run_measured`` is ``bench_load.run_load`` with the command as an
argument and the exit status returned instead of raised, so any command (``trialpanorama load``,
a ``python -c`` loader) is measured the same way.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil


class TreeSampler(threading.Thread):
    """Peak summed RSS of a process and all its descendants, sampled every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.root, self.every, self.peak, self.max_procs = psutil.Process(pid), every, 0, 0
        self.cpu: dict[int, float] = {}  # last user+sys seen per process: the writer vs the workers
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
                except psutil.Error:
                    pass
            self.peak, self.max_procs = max(self.peak, total), max(self.max_procs, len(procs))
            self.done.wait(self.every)


def trialpanorama_exe() -> str:
    """The ``trialpanorama`` script of this interpreter's environment (else the one on PATH)."""
    exe = Path(sys.executable).with_name("trialpanorama")
    return str(exe) if exe.exists() else "trialpanorama"


def run_measured(cmd: list[str]) -> dict:
    """Run ``cmd`` (stdout and stderr together) and measure it. CPU time is user+sys of the child
    and everything it started (``getrusage(RUSAGE_CHILDREN)`` deltas, so children must be reaped
    by the time it exits); ``peak_rss_tree_bytes`` is the tree's summed RSS sampled every 0.2 s,
    ``ru_maxrss_bytes`` the largest single process this one has waited for so far."""
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.done.set()
    sampler.join()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, sys_ = ru1.ru_utime - ru0.ru_utime, ru1.ru_stime - ru0.ru_stime
    return {"command": " ".join(cmd), "returncode": proc.returncode, "wall_s": wall, "cpu_s": user + sys_,
            "user_s": user, "sys_s": sys_, "peak_rss_tree_bytes": sampler.peak,
            "ru_maxrss_bytes": ru1.ru_maxrss * 1024, "processes": sampler.max_procs, "output": out.strip(),
            "cpu_main_s": sampler.cpu.get(proc.pid, 0.0),
            "cpu_workers_s": sum(v for k, v in sampler.cpu.items() if k != proc.pid)}

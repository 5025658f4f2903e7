"""Forwarding training progress to Dagster when the run was launched through Dagster Pipes.

A training asset can run ``python -m trialpanorama_dagster.training.sft`` as a Pipes subprocess;
Dagster then sets ``DAGSTER_PIPES_CONTEXT`` and the run's log lines and metrics show up in the
asset's run in the UI. Without that variable (a shell, a test) every call here does nothing; in a
multi-GPU launch only the main process (rank 0) opens the Pipes connection.
"""
from __future__ import annotations

import os

PIPES_ENV = "DAGSTER_PIPES_CONTEXT"


def main_process() -> bool:
    """Rank 0 of a distributed launch (or a single process): the one that talks to Dagster."""
    return os.environ.get("RANK", "0") == "0"


class PipesBridge:
    """``log`` and ``report`` go to the Pipes context when there is one; ``close`` closes it if this
    bridge opened it (a context opened by the calling script is left to that script)."""

    def __init__(self, enabled: bool | None = None):
        self._ctx = None
        self._owned = False
        if enabled is False or (enabled is None and (not os.environ.get(PIPES_ENV) or not main_process())):
            return
        try:
            from dagster_pipes import PipesContext, open_dagster_pipes
        except ImportError:
            return
        if PipesContext.is_initialized():
            self._ctx = PipesContext.get()
        else:
            self._ctx = open_dagster_pipes()
            self._owned = True

    @property
    def active(self) -> bool:
        return self._ctx is not None

    def log(self, message: str) -> None:
        if self._ctx is not None:
            self._ctx.log.info(message)

    def report(self, payload: dict) -> None:
        if self._ctx is not None:
            self._ctx.report_custom_message(payload)

    def close(self) -> None:
        if self._ctx is not None and self._owned:
            self._ctx.close()
        self._ctx = None

"""How the task sets are built (seed, split, options), as one Dagster resource."""

from datetime import date
from typing import Optional

import dagster as dg

from ..tasks.base import BuildConfig


class TaskBuildResource(dg.ConfigurableResource):
    """``test_fraction`` of the dedup clusters / reviews go to test (stable hash with ``seed``), or
    with ``date_cutoff`` (YYYY-MM-DD) what started before it is train and the rest test."""

    seed: int = 42
    test_fraction: float = 0.2
    date_cutoff: Optional[str] = None
    n_options: int = 4
    max_candidates: int = 50

    def config(self) -> BuildConfig:
        return BuildConfig(seed=self.seed, test_fraction=self.test_fraction,
                           date_cutoff=date.fromisoformat(self.date_cutoff) if self.date_cutoff else None,
                           n_options=self.n_options, max_candidates=self.max_candidates)

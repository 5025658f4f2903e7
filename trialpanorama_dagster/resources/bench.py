"""How the graph's benchmark assets run: sample limit, decoding length, generation cache."""

from pathlib import Path
from typing import Optional

import dagster as dg

from ..warehouse.db import home_dir


class BenchResource(dg.ConfigurableResource):
    """``limit``: a seeded subsample per task for every model (a model's own ``limit`` wins);
    ``cache``: reuse generations across runs (an interrupted benchmark resumes);
    ``folder``: where predictions and the report go (default ``$TRIALPANORAMA_HOME/bench``)."""

    limit: Optional[int] = None
    split: str = "test"
    cache: bool = True
    folder: Optional[str] = None

    def root(self) -> Path:
        return Path(self.folder) if self.folder else home_dir() / "bench"

    def cache_path(self) -> Optional[Path]:
        """The generation cache file, or None when caching is off."""
        from ..bench.run import CACHE_FILE

        return self.root() / CACHE_FILE if self.cache else None

"""Where ClinicalTrials.gov records come from: the live API v2, or local files (the default)."""

from importlib import resources as ilr
from pathlib import Path
from typing import List, Optional

import dagster as dg
from pydantic import Field

from .ctgov_live import CtgovLiveClient


def embedded_ctgov_paths() -> list[Path]:
    """The ClinicalTrials.gov records shipped in the package (API v2 JSON, bulk JSON, legacy XML)."""
    root = Path(str(ilr.files("trialpanorama_dagster") / "data" / "ctgov"))
    return [root]


class CtgovSourceResource(dg.ConfigurableResource):
    """``mode=local`` reads ``paths`` (empty: the embedded records); ``mode=live`` calls API v2."""

    mode: str = Field(default="local", description="local | live")
    paths: List[str] = Field(default_factory=list, description="files, folders or zips (local mode)")
    local_format: str = Field(default="auto", description="auto | ctgov | ctgov-xml (local mode)")
    base_url: str = Field(default="https://clinicaltrials.gov/api/v2", description="API v2 base URL (live mode)")
    page_size: int = 1000
    requests_per_minute: float = 50.0
    max_retries: int = 8
    timeout_s: float = 60.0
    since: Optional[str] = Field(default=None, description="YYYY-MM-DD; default: the stored cursor")
    full: bool = Field(default=False, description="live mode: ignore the cursor and fetch everything")

    def local_paths(self) -> list[Path]:
        return [Path(p) for p in self.paths] if self.paths else embedded_ctgov_paths()

    def live_client(self, log=None) -> CtgovLiveClient:
        if self.mode != "live":
            raise ValueError("live_client() needs mode=live")
        return CtgovLiveClient(base_url=self.base_url, page_size=self.page_size,
                               requests_per_minute=self.requests_per_minute, max_retries=self.max_retries,
                               timeout=self.timeout_s, log=log)

"""Where each registry's records come from: embedded records, local files, or a live API."""
import importlib
from importlib import resources as ilr
from pathlib import Path
from typing import List, Optional

import dagster as dg
from pydantic import Field

# Registries with a public machine interface: source -> (module, client class)
LIVE_CLIENTS = {
    "ctgov": ("ctgov_live", "CtgovLiveClient"),
    "isrctn": ("isrctn_live", "IsrctnLiveClient"),
    "ctis": ("ctis_live", "CtisLiveClient"),
    "euctr": ("euctr_live", "EuctrLiveClient"),
}
MODES = ("embedded", "local", "live", "off")


def embedded_path(source: str) -> Path:
    """The records of ``source`` shipped in the package (``trialpanorama_dagster/data/<source>``)."""
    return Path(str(ilr.files("trialpanorama_dagster") / "data" / source))


class RegistrySourceResource(dg.ConfigurableResource):
    """One registry's input. ``embedded`` (default): the records shipped in the package; ``local``:
    the files, folders or zips in ``paths``; ``live``: the registry's public API (where it has one),
    incremental from the stored cursor; ``off``: skip this registry."""

    mode: str = Field(default="embedded", description="embedded | local | live | off")
    paths: List[str] = Field(default_factory=list, description="files, folders or zips (mode=local)")
    local_format: str = Field(default="auto", description="auto, or a payload format to force (mode=local)")
    base_url: Optional[str] = Field(default=None, description="API base URL (mode=live); default: the registry's")
    page_size: Optional[int] = Field(default=None, description="records per page (mode=live)")
    requests_per_minute: Optional[float] = Field(default=None, description="pacing (mode=live)")
    max_retries: int = 8
    timeout_s: float = 60.0
    since: Optional[str] = Field(default=None, description="YYYY-MM-DD; default: the stored cursor (mode=live)")
    full: bool = Field(default=False, description="mode=live: ignore the cursor and fetch everything")

    def input_paths(self, source: str) -> list[Path]:
        if self.mode == "embedded":
            return [embedded_path(source)]
        return [Path(p) for p in self.paths]

    def live_client(self, source: str, log=None):
        if source not in LIVE_CLIENTS:
            raise ValueError(f"{source} has no public API client; use mode=local with the files you obtained")
        module, cls = LIVE_CLIENTS[source]
        client_cls = getattr(importlib.import_module(f"{__package__}.{module}"), cls)
        kwargs = {"max_retries": self.max_retries, "timeout": self.timeout_s, "log": log}
        for key in ("base_url", "page_size", "requests_per_minute"):
            if getattr(self, key) is not None:
                kwargs[key] = getattr(self, key)
        return client_cls(**kwargs)

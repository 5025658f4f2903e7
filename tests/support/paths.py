"""Where test data lives: the package's embedded records, and the shared fixtures beside the checkout."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_CTGOV = ROOT / "trialpanorama_dagster" / "data" / "ctgov"
CTGOV_V2_STUDIES = EMBEDDED_CTGOV / "api_v2_studies"
CTGOV_BULK_JSON = EMBEDDED_CTGOV / "ctg-studies.json"
CTGOV_LEGACY_XML = EMBEDDED_CTGOV / "legacy_xml"


def shared_fixtures() -> Path:
    """``$TRIALPANORAMA_SHARED/fixtures``, else ``../shared/fixtures`` beside the checkout."""
    for base in (os.environ.get("TRIALPANORAMA_SHARED"), ROOT.parent / "shared", "/work/shared"):
        if base and (Path(base) / "fixtures").is_dir():
            return Path(base) / "fixtures"
    raise FileNotFoundError("shared fixtures not found: set TRIALPANORAMA_SHARED to the folder holding fixtures/")

# The embedded registry records (the package's data folder also holds ontologies, literature, reviews)
REGISTRY_FOLDERS = [ROOT / "trialpanorama_dagster" / "data" / name
                    for name in ("ctgov", "ictrp", "euctr", "ctis", "isrctn", "chictr")]

"""A warehouse built from every embedded source, as the main job builds it (for task and search tests)."""
from trialpanorama_dagster.warehouse.embedded import build_embedded_warehouse  # noqa: F401

"""Cross-registry record linkage: one trial registered in several registries -> one cluster.

Pure Python (no DuckDB): ``clusters.build`` takes ``Record``s and returns clusters, the evidence
that joined them and title-only look-alikes for review; ``warehouse.clusters`` feeds it from and
writes it to the warehouse.
"""
from .clusters import (CONFIDENCE, SOURCE_PRIORITY, ClusterResult, Evidence, Member, Record,  # noqa: F401
                       build, cluster_id_for)
from .titles import ReviewCandidate, review_candidates  # noqa: F401

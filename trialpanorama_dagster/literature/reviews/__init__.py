"""Systematic-review collections into the warehouse: review setup, candidate studies and labels.

One pure reader per layout (``read_synergy``, ``read_cohen``, ``read_clef_tar``,
``read_sysrev_seed``, ``read_trialmind``) returns a :class:`ReviewImport`; ``import_reviews`` writes
one into DuckDB. ``EMBEDDED`` names the small real subsets shipped with the package.
"""
from .clef_tar import read_clef_tar
from .cohen import read_cohen
from .importer import EMBEDDED, FORMATS, import_reviews, read_reviews, write_reviews
from .model import ReviewBuilder, ReviewFileError, ReviewImport, Skipped
from .synergy import read_synergy
from .sysrev_seed import read_sysrev_seed
from .trialmind import read_trialmind

__all__ = ["EMBEDDED", "FORMATS", "ReviewBuilder", "ReviewFileError", "ReviewImport", "Skipped", "import_reviews",
           "read_clef_tar", "read_cohen", "read_reviews", "read_synergy", "read_sysrev_seed", "read_trialmind",
           "write_reviews"]

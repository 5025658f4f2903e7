"""Where the literature comes from: PubMed (embedded / local XML / live E-utilities) and review collections."""

from typing import Dict, List, Optional

import dagster as dg


class LiteratureResource(dg.ConfigurableResource):
    """PubMed articles and systematic-review collections for the ``literature/*`` assets.

    ``pubmed_mode``: ``embedded`` (the packaged PubMed XML samples), ``local`` (``pubmed_paths``:
    baseline/update files or efetch XML, ``.xml`` or ``.xml.gz``), ``live`` (E-utilities with
    ``pubmed_term``; ``NCBI_API_KEY`` / ``NCBI_TOOL`` / ``NCBI_EMAIL`` from the environment) or ``off``.
    ``review_paths``: files per collection format (synergy, cohen, clef_tar, sysrev_seed,
    trialmind); formats not given use their embedded copy when ``reviews_embedded`` is true.
    """

    pubmed_mode: str = "embedded"
    pubmed_paths: List[str] = []
    pubmed_term: Optional[str] = None
    pubmed_mindate: Optional[str] = None
    pubmed_maxdate: Optional[str] = None
    review_paths: Dict[str, List[str]] = {}
    reviews_embedded: bool = True

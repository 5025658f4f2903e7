"""Where the ontology files are and how the linker matches, as one Dagster resource."""

from typing import Dict, List

import dagster as dg

from ..ontologies.linker import LinkOptions


class OntologyResource(dg.ConfigurableResource):
    """Configured files per ontology (``{"mesh": ["/data/desc2026.xml", "/data/supp2026.xml"]}``).

    An ontology with no configured files uses its embedded default (MeSH, MONDO, DOID, HPO and
    DrugBank samples); ATC, RxNorm and HGNC have no embedded default, because their licences or
    sizes keep them out of the package: configure their paths to load them.
    """

    paths: Dict[str, List[str]] = {}
    fuzzy: bool = True
    fuzzy_cutoff: float = 90.0

    def files(self, name: str) -> List[str]:
        return list(self.paths.get(name) or [])

    def options(self) -> LinkOptions:
        return LinkOptions(fuzzy=self.fuzzy, fuzzy_cutoff=self.fuzzy_cutoff)

"""The local, frozen study-search environment: PubMed boolean queries over the warehouse's
articles and trials, executed by a tantivy index, returning ranked ids (see ``index``)."""
from .documents import DOC_FORMAT, content_version
from .index import (INDEX_FORMAT, Hit, IndexInfo, SearchIndex, build_index, default_index_path, ensure_index,
                    open_index, read_info)
from .nodes import And, Near, Not, Or, ParsedQuery, QueryError, Term
from .query import parse

__all__ = ["And", "DOC_FORMAT", "Hit", "INDEX_FORMAT", "IndexInfo", "Near", "Not", "Or", "ParsedQuery",
           "QueryError", "SearchIndex", "Term", "build_index", "content_version", "default_index_path",
           "ensure_index", "open_index", "parse", "read_info"]

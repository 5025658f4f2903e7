"""TF-IDF over hashed words: document frequencies learned on train texts, any later word usable.

Words are hashed (no vocabulary), so a word first seen at prediction time still counts: it gets
the largest IDF (a word no train text has). Term frequencies are sublinear (1 + log tf) and rows
are L2-normalised, so a dot product is a cosine similarity. Fitted on nothing, every IDF is 1
(plain term-frequency cosine).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

N_FEATURES = 2 ** 20


class HashedTfidf:
    def __init__(self, n_features: int = N_FEATURES, ngram_range: tuple[int, int] = (1, 1)):
        self.hasher = HashingVectorizer(n_features=n_features, alternate_sign=False, norm=None,
                                        stop_words="english", ngram_range=ngram_range, dtype=np.float64)
        self.n_docs = 0
        self.df = np.zeros(n_features)

    def fit(self, texts: list[str]) -> "HashedTfidf":
        texts = [t or "" for t in texts]
        self.n_docs = len(texts)
        if texts:
            counts = self.hasher.transform(texts)
            self.df = np.asarray((counts > 0).sum(axis=0)).ravel().astype(np.float64)
        return self

    @property
    def idf(self) -> np.ndarray:
        return np.log((1.0 + self.n_docs) / (1.0 + self.df)) + 1.0

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        counts = sp.csr_matrix(self.hasher.transform([t or "" for t in texts]))
        counts.data = 1.0 + np.log(counts.data)
        weighted = counts @ sp.diags(self.idf)
        return normalize(sp.csr_matrix(weighted), norm="l2", copy=False)


def cosine_rows(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Cosine similarity of each row of ``a`` with the same row of ``b`` (rows are L2-normalised)."""
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()

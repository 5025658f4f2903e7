"""The model backends behind one interface (:class:`~..types.Backend`), made by name.

* ``openai``: any OpenAI-compatible ``/chat/completions`` endpoint (:mod:`.openai_compat`);
* ``transformers``: a model run in this process with Hugging Face transformers
  (:mod:`.transformers_backend`; CPU or GPU);
* ``vllm``: vLLM's offline engine (:mod:`.vllm_backend`; needs the ``serve`` extra and a CUDA device).

Each backend module is imported only when that kind is asked for, so the package imports without
torch or vLLM.
"""
from __future__ import annotations

from typing import Any

from ..types import Backend

KINDS = ("openai", "transformers", "vllm")
SERVE_EXTRA_HINT = "install the serve extra: pip install -e '.[serve]'"


class BackendUnavailable(RuntimeError):
    """A backend kind that cannot run here (a missing optional package, no CUDA device)."""


def make_backend(kind: str, model: str, **options: Any) -> Backend:
    """A backend of ``kind`` serving ``model``; ``options`` go to that backend's constructor."""
    kind = (kind or "").strip().lower()
    if kind == "openai":
        from .openai_compat import OpenAICompatBackend
        return OpenAICompatBackend(model, **options)
    if kind == "transformers":
        from .transformers_backend import TransformersBackend
        return TransformersBackend(model, **options)
    if kind == "vllm":
        from .vllm_backend import VllmBackend
        return VllmBackend(model, **options)
    raise ValueError(f"unknown backend kind {kind!r}; kinds: {', '.join(KINDS)}")


__all__ = ["KINDS", "BackendUnavailable", "make_backend", "SERVE_EXTRA_HINT"]

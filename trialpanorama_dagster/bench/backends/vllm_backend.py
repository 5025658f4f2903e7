"""vLLM's offline engine (``vllm.LLM``) on local GPUs.

vLLM is the optional ``serve`` extra and is imported only when a :class:`VllmBackend` is made, so
this module imports without it; without vLLM, or without a CUDA device, construction raises
:class:`~.BackendUnavailable` saying what is missing.

Chats are rendered with the model's chat template (``add_generation_prompt=True``) into token ids,
left-truncated to fit ``max_input_tokens`` and the engine's ``max_model_len`` (a prompt longer than
the engine accepts would fail the whole batch), and generated in one call with ``SamplingParams``
(``temperature``, ``top_p``, ``max_tokens``, ``seed``); vLLM schedules the batch itself. The text
is cleaned like the transformers backend's (control tokens removed, ``<think>``/``<answer>`` kept).
``Decoding.json_mode`` is not enforced here: the task prompts already ask for JSON, and the
parsers read it either way.
"""
from __future__ import annotations

import importlib.util
import time
from typing import Any

from . import SERVE_EXTRA_HINT, BackendUnavailable
from ..types import Chat, Decoding, Generation, Progress
from .transformers_backend import control_tokens, render_prompt_ids, strip_control_tokens


def require_vllm() -> None:
    """Raise :class:`BackendUnavailable` unless vLLM is importable and a CUDA device is present."""
    if importlib.util.find_spec("vllm") is None:
        raise BackendUnavailable(f"the vllm backend needs vLLM, which is not installed; {SERVE_EXTRA_HINT}")
    try:
        import torch
    except ImportError:
        raise BackendUnavailable("the vllm backend needs torch (installed with vLLM); "
                                 f"{SERVE_EXTRA_HINT}") from None
    if not torch.cuda.is_available():
        raise BackendUnavailable("the vllm backend needs a CUDA device and none is available here; "
                                 "use the transformers backend (CPU) or an OpenAI-compatible server instead")


class VllmBackend:
    """Offline generation with ``vllm.LLM`` (see the module docstring)."""

    name = "vllm"

    def __init__(self, model: str, *, tensor_parallel_size: int = 1, gpu_memory_utilization: float = 0.9,
                 max_model_len: int | None = None, dtype: str = "auto", max_input_tokens: int | None = None,
                 trust_remote_code: bool = False, enforce_eager: bool = False, seed: int = 0,
                 **llm_options: Any):
        require_vllm()
        from vllm import LLM

        self.model = str(model)
        self.max_input_tokens = max_input_tokens
        self._llm = LLM(model=self.model, tensor_parallel_size=tensor_parallel_size,
                        gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
                        dtype=dtype, trust_remote_code=trust_remote_code, enforce_eager=enforce_eager,
                        seed=seed, **llm_options)
        self.tokenizer = self._llm.get_tokenizer()
        self.max_model_len = max_model_len or self._engine_max_len()
        self._controls = control_tokens(self.tokenizer)

    def __repr__(self) -> str:
        return f"VllmBackend(model={self.model!r}, max_model_len={self.max_model_len})"

    def _engine_max_len(self) -> int | None:
        for path in (("llm_engine", "model_config", "max_model_len"), ("model_config", "max_model_len")):
            obj: Any = self._llm
            for attr in path:
                obj = getattr(obj, attr, None)
            if isinstance(obj, int):
                return obj
        return None

    def _prompt_budget(self, decoding: Decoding) -> int | None:
        limits = [self.max_input_tokens] if self.max_input_tokens else []
        if self.max_model_len:
            limits.append(max(1, self.max_model_len - decoding.max_new_tokens))
        return min(limits) if limits else None

    def generate(self, chats: list[Chat], decoding: Decoding, progress: Progress | None = None) -> list[Generation]:
        from vllm import SamplingParams

        if not chats:
            return []
        budget = self._prompt_budget(decoding)
        prompts = [render_prompt_ids(self.tokenizer, c, budget) for c in chats]
        params = SamplingParams(temperature=decoding.temperature,
                                top_p=decoding.top_p if decoding.temperature > 0 else 1.0,
                                max_tokens=decoding.max_new_tokens, seed=decoding.seed,
                                skip_special_tokens=False)
        started = time.perf_counter()
        outputs = self._llm.generate([{"prompt_token_ids": ids} for ids in prompts], params, use_tqdm=False)
        share = (time.perf_counter() - started) / len(prompts)
        results = []
        for ids, out in zip(prompts, outputs):
            completion = out.outputs[0]
            results.append(Generation(text=strip_control_tokens(completion.text, self._controls),
                                      prompt_tokens=len(ids), completion_tokens=len(completion.token_ids),
                                      seconds=share))
        if progress:
            progress(len(results))
        return results

    def close(self) -> None:
        import gc

        import torch
        self._llm = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

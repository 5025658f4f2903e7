"""A causal LM run in this process with Hugging Face transformers (CPU or GPU).

``TransformersBackend(model)`` loads ``AutoModelForCausalLM`` + ``AutoTokenizer`` from a local
directory or a hub id (with ``HF_HUB_OFFLINE=1`` only the local cache is read, and weights missing
there are a clear :class:`ModelNotFound`). Each chat is rendered with the tokenizer's chat template
(``add_generation_prompt=True``; a plain ``role: content`` layout where the tokenizer has none),
left-truncated to ``max_input_tokens`` when set, and generated in batches of ``batch_size``: prompts
are sorted by length (longest first, so a batch too large for memory fails at once) and left-padded,
and the generations come back in the order of the chats. ``temperature == 0`` is greedy decoding;
otherwise sampling with ``top_p``, seeded with ``decoding.seed`` per batch.

``device="auto"`` is CUDA when available, else CPU; ``dtype="auto"`` is bf16 on a GPU, fp32 on a
CPU. The text is cut at the first end-of-sequence token and the tokenizer's control tokens
(``<|im_end|>``, padding, ...) are removed; markup tags such as ``<think>`` / ``<answer>`` are kept
even where the tokenizer registers them as special, since parsers read them.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from ..types import Chat, Decoding, Generation, Progress

_MARKUP_TAG = re.compile(r"^</?[A-Za-z][A-Za-z0-9_-]*>$")
_DTYPES = {"bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16", "float16": "float16",
           "half": "float16", "fp32": "float32", "float32": "float32", "float": "float32"}


class ModelNotFound(FileNotFoundError):
    """The model's directory or weights are not where they were looked for."""


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _looks_like_path(model: str) -> bool:
    return model.startswith(("/", "./", "../", "~", "\\")) or Path(model).exists()


def resolve_device(device: str = "auto") -> str:
    import torch
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str, device: str):
    import torch
    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        return getattr(torch, _DTYPES[dtype.lower()])
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; use auto, bf16, fp16 or fp32") from None


def render_prompt_ids(tokenizer, chat: Chat, max_input_tokens: int | None = None) -> list[int]:
    """The token ids of a chat rendered for generation, keeping the last ``max_input_tokens``."""
    turns = [{"role": t["role"], "content": t["content"]} for t in chat]
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)
    else:
        text = "".join(f"{t['role']}: {t['content']}\n" for t in turns) + "assistant: "
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    if max_input_tokens is not None and len(ids) > max_input_tokens:
        ids = ids[len(ids) - max_input_tokens:]
    return ids


def control_tokens(tokenizer) -> list[str]:
    """The special tokens to remove from generated text (markup tags like ``<answer>`` excepted)."""
    named = set(getattr(tokenizer, "all_special_tokens", []) or [])
    added = {t.content for t in (getattr(tokenizer, "added_tokens_decoder", {}) or {}).values()
             if getattr(t, "special", False)}
    out = named | {t for t in added if not _MARKUP_TAG.match(t)}
    return sorted((t for t in out if t), key=len, reverse=True)


def strip_control_tokens(text: str, tokens: list[str]) -> str:
    for token in tokens:
        text = text.replace(token, "")
    return text.strip()


class TransformersBackend:
    """In-process generation with transformers (see the module docstring)."""

    name = "transformers"

    def __init__(self, model: str, *, batch_size: int = 8, device: str = "auto", dtype: str = "auto",
                 max_input_tokens: int | None = None, trust_remote_code: bool = False,
                 local_files_only: bool | None = None):
        import torch  # noqa: F401  (fail here, not mid-run, without the train extra)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_input_tokens is not None and max_input_tokens < 1:
            raise ValueError(f"max_input_tokens must be >= 1, got {max_input_tokens}")
        self.model = str(model)
        self.batch_size = batch_size
        self.max_input_tokens = max_input_tokens
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        source = self._locate(self.model)
        offline = hub_offline() if local_files_only is None else local_files_only
        kw: dict[str, Any] = {"trust_remote_code": trust_remote_code, "local_files_only": offline}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, **kw)
            self._model = AutoModelForCausalLM.from_pretrained(source, dtype=self.dtype, **kw)
        except OSError as exc:
            where = ("a local directory" if Path(source).is_dir() else
                     "the local Hugging Face cache (HF_HUB_OFFLINE=1, so the hub was not asked)" if offline
                     else "the Hugging Face hub")
            raise ModelNotFound(f"could not load model {self.model!r} from {where}: "
                                f"{' '.join(str(exc).split())[:300]}") from None
        self._model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._eos = self._eos_ids()
        self._controls = control_tokens(self.tokenizer)
        self.generate_calls = 0

    def __repr__(self) -> str:
        return (f"TransformersBackend(model={self.model!r}, device={self.device!r}, dtype={self.dtype}, "
                f"batch_size={self.batch_size})")

    @staticmethod
    def _locate(model: str) -> str:
        path = Path(model).expanduser()
        if path.is_dir():
            if not (path / "config.json").exists():
                raise ModelNotFound(f"model directory {str(path)!r} has no config.json")
            return str(path)
        if _looks_like_path(model):
            raise ModelNotFound(f"no model directory at {str(path)!r}")
        return model

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for source in (self._model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif source:
                ids.update(int(i) for i in source)
        return ids

    def input_budget(self, decoding: Decoding) -> int | None:
        """``max_input_tokens``, or else what the model's context leaves after the answer (prompts
        longer than that keep their last tokens, as the vLLM backend does)."""
        if self.max_input_tokens is not None:
            return self.max_input_tokens
        context = getattr(self._model.config, "max_position_embeddings", None)
        if isinstance(context, int) and context > decoding.max_new_tokens:
            return context - decoding.max_new_tokens
        return None

    # -- the Backend protocol -----------------------------------------------------------------
    def generate(self, chats: list[Chat], decoding: Decoding, progress: Progress | None = None) -> list[Generation]:
        prompts = [render_prompt_ids(self.tokenizer, c, self.input_budget(decoding)) for c in chats]
        order = sorted(range(len(prompts)), key=lambda i: (-len(prompts[i]), i))
        results: list[Generation | None] = [None] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            started = time.perf_counter()
            outputs = self._generate_batch([prompts[i] for i in batch], decoding, start // self.batch_size)
            share = (time.perf_counter() - started) / len(batch)
            for i, (text, n_new) in zip(batch, outputs):
                results[i] = Generation(text=text, prompt_tokens=len(prompts[i]), completion_tokens=n_new,
                                        seconds=share)
            if progress:
                progress(len(batch))
        return results  # type: ignore[return-value]

    def _generate_batch(self, prompts: list[list[int]], decoding: Decoding, batch_no: int) -> list[tuple[str, int]]:
        import torch

        self.generate_calls += 1
        padded = self.tokenizer.pad({"input_ids": prompts}, padding=True, return_tensors="pt")
        input_ids = padded["input_ids"].to(self.device)
        attention = padded["attention_mask"].to(self.device)
        kw: dict[str, Any] = {"max_new_tokens": decoding.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id,
                              "eos_token_id": sorted(self._eos) or None}
        if decoding.temperature > 0:
            kw.update(do_sample=True, temperature=decoding.temperature, top_p=decoding.top_p, top_k=0)
            torch.manual_seed(decoding.seed + batch_no)
        else:
            kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            out = self._model.generate(input_ids=input_ids, attention_mask=attention, **kw)
        new = out[:, input_ids.shape[1]:].tolist()
        return [self._decode(row) for row in new]

    def _decode(self, ids: list[int]) -> tuple[str, int]:
        """(text, generated tokens counting the end-of-sequence token) of one row of new tokens."""
        n = next((k + 1 for k, t in enumerate(ids) if t in self._eos), len(ids))
        body = [t for t in ids[:n] if t not in self._eos]
        return strip_control_tokens(self.tokenizer.decode(body, skip_special_tokens=False), self._controls), n

    def close(self) -> None:
        import gc

        import torch
        self._model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

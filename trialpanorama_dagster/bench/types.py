"""The types every part of the benchmark shares: chats, decoding parameters, generations, backends.

A *backend* turns chats (lists of ``{"role", "content"}`` turns) into generations; the benchmark
renders each sample's chat with its task's prompt (:mod:`.prompts`), asks a backend (through the
generation cache, :mod:`.cache`), parses each output with the task's parser and scores it with the
task's scorer (:mod:`.scoring`). Plain Python: no Dagster here.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Callable, Protocol, runtime_checkable

Chat = list[dict]                          # [{"role": "system"|"user"|"assistant", "content": str}, ...]
Progress = Callable[[int], None]           # called with the number of prompts just finished


@dataclass(frozen=True)
class Decoding:
    """Decoding parameters; part of the generation cache key."""
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 1024
    seed: int = 42
    json_mode: bool = False                # ask for a JSON object where the backend supports it

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class Generation:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached: bool = False
    error: str | None = None               # set when the backend gave up on this prompt (text is "")
    seconds: float | None = None


@runtime_checkable
class Backend(Protocol):
    """``name``: the backend kind (openai, transformers, vllm); ``model``: what it serves."""
    name: str
    model: str

    def generate(self, chats: list[Chat], decoding: Decoding, progress: Progress | None = None) -> list[Generation]:
        """One generation per chat, in order. A prompt the backend gives up on (after its retries)
        comes back with ``error`` set rather than raising, so one bad prompt never loses a batch."""
        ...

    def close(self) -> None: ...


def chat_hash(chat: Chat) -> str:
    """A stable hash of a chat's roles and contents."""
    blob = json.dumps([[t["role"], t["content"]] for t in chat], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()

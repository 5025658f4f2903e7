"""Any OpenAI-compatible chat endpoint (OpenAI, Azure-style proxies, a local vLLM/SGLang/llama.cpp server).

Each chat is one ``POST {base_url}/chat/completions`` with ``model``, ``messages``, ``temperature``,
``top_p``, ``max_tokens``, ``seed`` and, when the decoding asks for JSON (and ``json_mode`` is left
on), ``response_format={"type": "json_object"}``; ``extra_body`` adds fields (a ``None`` value drops
one, e.g. ``{"temperature": None}`` for a reasoning model). Up to ``max_concurrency`` requests are in
flight at once; ``requests_per_minute`` (``<= 0``: off) paces them across all threads.

Retries are the project's ``RetryingHttp``: 429 (``Retry-After`` honoured), 5xx, timeouts, dropped
connections, truncated bodies and bodies that are not a completion are asked again with exponential
backoff and full jitter. A prompt that still fails, or gets another 4xx, comes back as
``Generation(text="", error=...)``; the rest of the batch completes, in the order of the chats.

The API key is read from the environment variable named by ``api_key_env`` (default
``OPENAI_API_KEY``; none is fine for a local server) and sent as ``Authorization: Bearer``. It is
kept in a private attribute, left out of ``repr``, and redacted (with any ``Bearer`` token) from
every log line, error and ``Generation.error``, also when a server echoes it back.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any, Callable, Mapping

import httpx

from ...resources.http_retry import RegistryApiError, Retryable, RetryingHttp, json_object, one_line
from ..types import Chat, Decoding, Generation, Progress

logger = logging.getLogger(__name__)
DEFAULT_BASE_URL = "https://api.openai.com/v1"
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;}\]]+")


class OpenAIApiError(RegistryApiError):
    """A chat completion failed for good (4xx other than 429, or retries exhausted); secrets redacted."""


def redact_secret(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` and any ``Bearer <token>`` masked."""
    if secret:
        text = text.replace(secret, "***")
    return _BEARER.sub(r"\1***", text)


def _completion(content: bytes) -> dict:
    """A chat-completion body; anything else (no ``choices``, no message) is worth asking again."""
    body = json_object(content)
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise Retryable("response has no choices")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise Retryable("response choice has no message")
    return body


class _ChatHttp(RetryingHttp):
    """RetryingHttp shared by the worker threads: pacing under a lock, the key redacted everywhere."""

    def __init__(self, *args, secret: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._secret = secret
        self._pace_lock = threading.Lock()

    def clean(self, text: str) -> str:
        return redact_secret(text, self._secret)

    def _pace(self) -> None:
        with self._pace_lock:
            super()._pace()


class OpenAICompatBackend:
    """Chats through an OpenAI-compatible ``/chat/completions`` endpoint (see the module docstring)."""

    name = "openai"

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 max_concurrency: int = 8, timeout: float = 120.0, max_retries: int = 6,
                 backoff_base: float = 1.0, backoff_max: float = 60.0, requests_per_minute: float = 0.0,
                 json_mode: bool = True, extra_body: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None, transport: httpx.BaseTransport | None = None,
                 log: Callable[[str], None] | None = None):
        if not model:
            raise ValueError("model is required (the name the endpoint serves)")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        env = os.environ if env is None else env
        self.model = model
        self.base_url = (base_url or env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key_env = api_key_env
        key = (env.get(api_key_env) or "").strip() or None
        if key is not None and any(ord(c) < 33 or ord(c) == 127 for c in key):
            raise ValueError(f"the API key in ${api_key_env} contains whitespace or control characters")
        self._api_key = key
        self.max_concurrency = max_concurrency
        self.json_mode = json_mode
        self.extra_body = dict(extra_body or {})
        self._log = log
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = _ChatHttp(self.base_url, name="chat completions", log_prefix=f"{self.name}:{model}",
                               requests_per_minute=requests_per_minute, max_retries=max_retries,
                               backoff_base=backoff_base, backoff_max=backoff_max, timeout=timeout,
                               transport=transport, log=log, error_cls=OpenAIApiError,
                               headers=headers, secret=key)

    def __repr__(self) -> str:
        return (f"OpenAICompatBackend(model={self.model!r}, base_url={self.base_url!r}, "
                f"api_key={'set' if self._api_key else 'unset'} (${self.api_key_env}), "
                f"max_concurrency={self.max_concurrency})")

    @property
    def has_api_key(self) -> bool:
        return self._api_key is not None

    # -- one request --------------------------------------------------------------------------
    def request_body(self, chat: Chat, decoding: Decoding) -> dict:
        """The JSON body sent for one chat."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": t["role"], "content": t["content"]} for t in chat],
            "temperature": decoding.temperature, "top_p": decoding.top_p,
            "max_tokens": decoding.max_new_tokens, "seed": decoding.seed,
        }
        if decoding.json_mode and self.json_mode:
            body["response_format"] = {"type": "json_object"}
        for key, value in self.extra_body.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def complete(self, chat: Chat, decoding: Decoding, what: str = "chat") -> Generation:
        """One chat; never raises for a failed request (the error, redacted, is in the result)."""
        started = time.perf_counter()
        try:
            body, _ = self._http.post("/chat/completions", json=self.request_body(chat, decoding),
                                      validate=_completion, what=what)
        except RegistryApiError as exc:
            error = self._http.clean(one_line(str(exc), 500))
            self._note(f"{self.name}:{self.model}: gave up on {what}: {error}")
            return Generation(text="", error=error, seconds=time.perf_counter() - started)
        except Exception as exc:        # anything else the transport raises (e.g. a bad encoding)
            error = self._http.clean(f"{type(exc).__name__}: {one_line(str(exc), 300)}")
            self._note(f"{self.name}:{self.model}: gave up on {what}: {error}")
            return Generation(text="", error=error, seconds=time.perf_counter() - started)
        choice = body["choices"][0]
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        content = choice["message"].get("content")
        return Generation(text=content if isinstance(content, str) else "",
                          prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
                          completion_tokens=_int_or_none(usage.get("completion_tokens")),
                          seconds=time.perf_counter() - started)

    # -- the Backend protocol -----------------------------------------------------------------
    def generate(self, chats: list[Chat], decoding: Decoding, progress: Progress | None = None) -> list[Generation]:
        results: list[Generation | None] = [None] * len(chats)
        if not chats:
            return []
        pool = ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(chats)),
                                  thread_name_prefix="openai-chat")
        try:
            pending = {pool.submit(self.complete, chat, decoding, f"chat {i}"): i for i, chat in enumerate(chats)}
            while pending:
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    results[pending.pop(future)] = future.result()
                if done and progress:
                    progress(len(done))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _note(self, message: str) -> None:
        message = self._http.clean(message)
        logger.warning(message)
        if self._log:
            self._log(message)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

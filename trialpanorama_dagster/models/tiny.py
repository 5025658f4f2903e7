"""The smoke model: a real architecture at a tiny size, random weights, a tokenizer trained on task text.

It needs no model hub and builds in about a second, so every training stage and every model
backend can run end to end on a CPU (tests, ``make run``). It is a *smoke* model: its outputs are
noise, and its benchmark figures say only that the pipeline works. ``smoke_model: true`` in its
``config.json`` marks it (the UI and reports label it so).

The chat template is ChatML with ``{% generation %}`` markers around assistant turns, so TRL's
assistant-only loss works with it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<answer>", "</answer>")
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


@dataclass(frozen=True)
class TinyShape:
    """A Qwen2-architecture model small enough to train on a CPU in seconds."""
    vocab_size: int = 4096
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 4096
    seed: int = 0


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """A byte-level BPE tokenizer trained on ``texts``, wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   bos_token=None, unk_token=None, model_max_length=TinyShape.max_position_embeddings)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_model(out_dir: str | Path, texts: Iterable[str], shape: TinyShape = TinyShape()) -> Path:
    """Train the tokenizer on ``texts``, build the model at ``shape`` with seeded random weights and
    save both to ``out_dir`` (loadable with ``AutoModelForCausalLM`` / ``AutoTokenizer``)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    texts = [t for t in texts if t]
    if not texts:
        raise ValueError("the smoke model's tokenizer needs some text to train on")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(texts, shape.vocab_size)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=shape.hidden_size, intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers, num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_key_value_heads, max_position_embeddings=shape.max_position_embeddings,
        tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None)
    config.smoke_model = True
    torch.manual_seed(shape.seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "smoke_model.json").write_text(json.dumps({"smoke_model": True, "shape": asdict(shape),
                                                      "tokenizer_texts": len(texts)}, indent=2))
    return out


def is_smoke_model(path: str | Path) -> bool:
    return (Path(path) / "smoke_model.json").exists()


def task_texts(con, limit_per_task: int = 200) -> list[str]:
    """The chat turns of up to ``limit_per_task`` training samples of each task (tokenizer text)."""
    from ..tasks.registry import builder

    rows = con.execute("""SELECT task, record FROM (
                            SELECT task, record, row_number() OVER (PARTITION BY task ORDER BY sample_id) AS r
                            FROM task_samples WHERE split = 'train') WHERE r <= ?""", [limit_per_task]).fetchall()
    texts = []
    for task, record in rows:
        for turn in builder(task).messages(json.loads(record)):
            texts.append(turn["content"])
    return texts

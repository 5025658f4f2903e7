"""The transformers backend on the real smoke model (a tiny Qwen2 with a tokenizer trained on task
text): batched generation in the order of the chats, token counts, greedy determinism, seeded
sampling, left truncation, clean text, and clear errors for a model that is not there."""
import pytest
import torch

from tests.support.openai_server import task_chats
from trialpanorama_dagster.bench.backends import make_backend
from trialpanorama_dagster.bench.backends.transformers_backend import (ModelNotFound, TransformersBackend,
                                                                         render_prompt_ids)
from trialpanorama_dagster.bench.types import Backend, Decoding
from trialpanorama_dagster.models.tiny import build_tiny_model

GREEDY = Decoding(temperature=0.0, max_new_tokens=16)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """The smoke model, its output head untied from the embeddings and re-drawn so that greedy
    decoding depends on the whole prompt (a tied random head mostly repeats the last token)."""
    from transformers import AutoModelForCausalLM

    texts = [turn["content"] for c in task_chats() for turn in c]
    out = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", texts * 3)
    model = AutoModelForCausalLM.from_pretrained(out)
    model.config.tie_word_embeddings = False
    head = torch.randn(model.lm_head.weight.shape, generator=torch.Generator().manual_seed(1))
    model.lm_head.weight = torch.nn.Parameter(head)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def chats():
    """Real task chats of different lengths, shuffled so that length order is not chat order."""
    c = task_chats()
    return [c[i] for i in (3, 0, 5, 1, 4, 2)]


def test_batched_generation_keeps_order_and_counts_tokens(model_dir, chats):
    b = make_backend("transformers", str(model_dir), batch_size=4)
    assert isinstance(b, Backend) and b.name == "transformers" and b.device == "cpu"
    assert b.dtype == torch.float32
    lengths = [len(render_prompt_ids(b.tokenizer, c)) for c in chats]
    assert sorted(lengths, reverse=True) != lengths              # the batches really reorder them
    done = []
    gens = b.generate(chats, GREEDY, progress=done.append)
    assert done == [4, 2] and b.generate_calls == 2
    assert [g.prompt_tokens for g in gens] == lengths
    assert all(1 <= g.completion_tokens <= 16 and g.error is None and g.seconds > 0 for g in gens)
    assert len({g.text for g in gens}) > 1                       # the outputs depend on the prompts
    for g in gens:
        assert "<|im_end|>" not in g.text and "<|endoftext|>" not in g.text and "<|im_start|>" not in g.text

    # each chat alone (batch size 1, no padding) gives the same greedy text: order and padding are right
    single = TransformersBackend(str(model_dir), batch_size=1)
    alone = single.generate(chats, GREEDY)
    assert [g.text for g in alone] == [g.text for g in gens]
    assert [g.completion_tokens for g in alone] == [g.completion_tokens for g in gens]
    # greedy decoding is deterministic
    assert [g.text for g in b.generate(chats, GREEDY)] == [g.text for g in gens]
    b.close(), single.close()


def test_seeded_sampling_is_reproducible(model_dir, chats):
    b = TransformersBackend(str(model_dir), batch_size=3)
    sampled = Decoding(temperature=1.0, top_p=0.95, max_new_tokens=12, seed=3)
    first, again = b.generate(chats, sampled), b.generate(chats, sampled)
    other = b.generate(chats, Decoding(temperature=1.0, top_p=0.95, max_new_tokens=12, seed=4))
    assert [g.text for g in first] == [g.text for g in again]
    assert [g.text for g in first] != [g.text for g in other]
    b.close()


def test_max_input_tokens_keeps_the_end_of_the_prompt(model_dir, chats):
    b = TransformersBackend(str(model_dir), batch_size=2, max_input_tokens=24)
    full = render_prompt_ids(b.tokenizer, chats[0])
    assert render_prompt_ids(b.tokenizer, chats[0], 24) == full[-24:]
    gens = b.generate(chats, Decoding(max_new_tokens=4))
    assert all(g.prompt_tokens == 24 for g in gens)
    assert all(g.completion_tokens <= 4 for g in gens)


def test_prompts_longer_than_the_context_keep_their_end(model_dir, chats):
    b = TransformersBackend(str(model_dir), batch_size=2)
    b._model.config.max_position_embeddings = 40            # a model whose context is 40 tokens
    assert b.input_budget(Decoding(max_new_tokens=8)) == 32
    long_chat = max(chats, key=lambda c: len(render_prompt_ids(b.tokenizer, c)))
    assert len(render_prompt_ids(b.tokenizer, long_chat)) > 32
    gen = b.generate([long_chat], Decoding(max_new_tokens=8))[0]
    assert gen.error is None and gen.prompt_tokens == 32
    assert b.input_budget(Decoding(max_new_tokens=64)) is None      # nothing left: no cut


def test_empty_batch_and_dtype_option(model_dir):
    b = TransformersBackend(str(model_dir), dtype="bf16")
    assert b.dtype == torch.bfloat16 and b.generate([], GREEDY) == []
    with pytest.raises(ValueError, match="unknown dtype"):
        TransformersBackend(str(model_dir), dtype="int3")


def test_missing_model_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound, match="no model directory at"):
        TransformersBackend(str(tmp_path / "no-such-checkpoint"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match="has no config.json"):
        TransformersBackend(str(tmp_path / "empty"))
    with pytest.raises(ModelNotFound, match=r"local Hugging Face cache \(HF_HUB_OFFLINE=1"):
        make_backend("transformers", "trialpanorama-test/not-a-cached-model")

import pytest
import torch
from torch.utils.data import DataLoader

from rnnkit.data import (
    BucketBatchSampler,
    LabelVocab,
    ParallelExample,
    TaggedExample,
    TextExample,
    Vocab,
    encode_classification,
    encode_parallel,
    encode_tagging,
    get_tokenizer,
    pad_ids,
    padding_fraction,
    tokenize_examples,
)
from rnnkit.data.batching import (
    TAG_PAD_ID,
    collate_classification,
    collate_parallel,
    collate_tagging,
    pad_chars,
)
from rnnkit.errors import ConfigError, DataError

LENGTHS = [5, 1, 3, 3, 7, 2, 5, 5, 1, 8, 4, 2, 6, 3]


def test_pad_ids_shapes_and_values():
    ids, lengths = pad_ids([[4, 5, 6], [7]], pad_id=0)
    assert ids.dtype == torch.long and ids.tolist() == [[4, 5, 6], [7, 0, 0]]
    assert lengths.tolist() == [3, 1]
    assert pad_ids([], pad_id=0)[0].shape == (0, 0)
    assert pad_ids([[4, 5], [6]])[0].tolist() == [[4, 5], [6, 0]]  # pads with 0 by default


def test_sampler_covers_every_index_once_and_is_deterministic():
    sampler = BucketBatchSampler(LENGTHS, batch_size=4, seed=3)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(len(LENGTHS)))
    assert len(batches) == len(sampler) == 4
    assert list(BucketBatchSampler(LENGTHS, batch_size=4, seed=3)) == batches
    sampler.set_epoch(1)
    assert list(sampler) != batches  # a new epoch, a new order
    sampler.set_epoch(0)
    assert list(sampler) == batches


def test_bucketing_minimises_padding_compared_with_random_batches():
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 60, (2000,), generator=generator).tolist()
    bucketed = list(BucketBatchSampler(lengths, batch_size=32, seed=0))
    random = torch.randperm(2000, generator=generator).split(32)
    assert padding_fraction(bucketed, lengths) < 0.02
    assert padding_fraction([b.tolist() for b in random], lengths) > 0.3


def test_unshuffled_batches_are_sorted_by_length():
    batches = list(BucketBatchSampler(LENGTHS, batch_size=5, shuffle=False))
    flat = [LENGTHS[i] for b in batches for i in b]
    assert flat == sorted(LENGTHS) and [len(b) for b in batches] == [5, 5, 4]
    assert len(BucketBatchSampler(LENGTHS, batch_size=5, drop_last=True)) == 2


def test_pools_limit_sorting_to_each_pool():
    batches = list(BucketBatchSampler(LENGTHS, batch_size=2, pool_batches=2, shuffle=False))
    assert [LENGTHS[i] for i in batches[0] + batches[1]] == sorted(LENGTHS[:4])


@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_ranks_split_batches_evenly(drop_last):
    samplers = [
        BucketBatchSampler(LENGTHS, 3, seed=1, drop_last=drop_last, num_replicas=2, rank=r)
        for r in range(2)
    ]
    per_rank = [list(s) for s in samplers]
    assert len(per_rank[0]) == len(per_rank[1]) == len(samplers[0])
    seen = [i for batches in per_rank for b in batches for i in b]
    if drop_last:  # 4 full batches of 3, split 2 + 2, disjoint
        assert len(seen) == len(set(seen)) == 12
    else:  # 5 batches padded to 6 by repeating the first one
        assert set(seen) == set(range(len(LENGTHS)))
        assert len(per_rank[0]) == 3


def test_sampler_argument_errors():
    with pytest.raises(ConfigError, match="batch_size must be at least 1, got 0"):
        BucketBatchSampler(LENGTHS, 0)
    with pytest.raises(ConfigError, match=r"rank must be in \[0, num_replicas=2\), got 2"):
        BucketBatchSampler(LENGTHS, 4, num_replicas=2, rank=2)


def classification_data(max_length=None):
    examples = [
        TextExample("a good film", "pos"),
        TextExample("bad", "neg"),
        TextExample("", "pos", tokens=["pre", "tokenized"]),
        TextExample("a very very good film indeed", "pos"),
    ]
    tokenizer = get_tokenizer("word")
    tokens = tokenize_examples(examples, tokenizer)
    vocab, labels = Vocab.build(tokens), LabelVocab.build(e.label for e in examples)
    data = encode_classification(examples, tokenizer, vocab, labels, max_length=max_length)
    return data, vocab, tokens


def test_encode_classification_uses_given_tokens_and_counts_truncation():
    data, vocab, tokens = classification_data(max_length=3)
    assert tokens[2] == ["pre", "tokenized"]
    assert data.truncated == 1 and data.lengths == [3, 1, 2, 3]
    assert vocab.decode(data[3][0]) == ["a", "very", "very"]
    assert data[1][1] == 0 and data[0][1] == 1  # labels sorted: neg, pos


def test_dataloader_with_bucketing_and_workers_gives_padded_batches():
    data, vocab, _ = classification_data()
    sampler = BucketBatchSampler(data.lengths, batch_size=2, seed=0)
    loader = DataLoader(data, batch_sampler=sampler, collate_fn=data.collate, num_workers=2)
    batches = list(loader)
    assert len(batches) == 2
    for batch in batches:
        assert batch.ids.shape == (2, int(batch.lengths.max()))
        for row, length in zip(batch.ids, batch.lengths, strict=True):
            assert (row[length:] == vocab.pad_id).all() and (row[:length] != vocab.pad_id).all()
    assert sorted(b.labels.tolist() for b in batches) == sorted([[0, 1], [1, 1]])
    in_process = list(DataLoader(data, batch_sampler=sampler, collate_fn=data.collate))
    assert all(torch.equal(a.ids, b.ids) for a, b in zip(batches, in_process, strict=True))


def test_unknown_label_at_evaluation_names_file_and_line():
    vocab, labels = Vocab.build([["a"]]), LabelVocab(["neg", "pos"])
    dev = [
        TextExample("a", "pos", None, "dev.tsv", 2),
        TextExample("a", "neutral", None, "dev.tsv", 3),
    ]
    with pytest.raises(DataError, match=r"dev.tsv:3: unknown label 'neutral'"):
        encode_classification(dev, get_tokenizer("word"), vocab, labels)


def test_encode_and_collate_tagging():
    examples = [
        TaggedExample(["fly", "to", "boston"], ["O", "O", "B-city"], "flight", "seq.in", 1),
        TaggedExample(["hi"], ["O"], "greet", "seq.in", 2),
    ]
    vocab = Vocab.build(e.tokens for e in examples)
    tags, intents = LabelVocab(["B-city", "O"]), LabelVocab(["flight", "greet"])
    data = encode_tagging(examples, vocab, tags, intents, max_length=2)
    assert data.truncated == 1 and data.lengths == [2, 1]
    batch = data.collate([data[0], data[1]])
    assert batch.tags.tolist() == [[1, 1], [1, TAG_PAD_ID]]
    assert batch.intents.tolist() == [0, 1] and batch.lengths.tolist() == [2, 1]
    assert batch.char_ids is None and batch.char_lengths is None
    bad = [TaggedExample(["x"], ["I-foo"], None, "t.conll", 9)]
    with pytest.raises(DataError, match=r"t.conll:9: unknown label 'I-foo'"):
        encode_tagging(bad, vocab, tags)


def test_tagging_with_characters_pads_words_and_sentences():
    examples = [
        TaggedExample(["Fly", "to", "Boston"], ["O", "O", "B-city"]),
        TaggedExample(["Hi"], ["O"]),
    ]
    vocab = Vocab.build([["fly", "to", "boston", "hi"]])
    chars = Vocab.build(list(token) for e in examples for token in e.tokens)
    tags = LabelVocab(["B-city", "O"])
    data = encode_tagging(examples, vocab, tags, lowercase=True, chars=chars, max_word_chars=4)
    batch = data.collate([data[0], data[1]])
    assert vocab.unk_id not in batch.ids[0].tolist()  # words looked up lower-cased
    assert batch.char_ids.shape == (2, 3, 4)
    assert batch.char_lengths.tolist() == [[3, 2, 4], [2, 0, 0]]
    assert chars.decode(batch.char_ids[0, 2].tolist()) == list("Bost")  # case kept, cut at 4
    assert batch.char_ids[1, 1:].eq(0).all() and batch.char_ids[1, 0, 2:].eq(0).all()
    with pytest.raises(ConfigError, match="max_word_chars must be at least 1, got 0"):
        encode_tagging(examples, vocab, tags, chars=chars, max_word_chars=0)


def test_encode_and_collate_parallel_adds_bos_eos_to_targets():
    examples = [ParallelExample("Go .", "Va !"), ParallelExample("Hi there now .", "Salut .")]
    tokenizer = get_tokenizer("whitespace")
    source = Vocab.build(tokenizer.tokenize(e.source) for e in examples)
    target = Vocab.build(tokenizer.tokenize(e.target) for e in examples)
    data = encode_parallel(examples, tokenizer, tokenizer, source, target, max_length=3)
    assert data.truncated == 1 and data.lengths == [2, 3]
    batch = data.collate([data[0], data[1]])
    assert batch.source.shape == (2, 3) and batch.target.shape == (2, 4)
    assert target.decode(batch.target[0].tolist()) == ["<bos>", "Va", "!", "<eos>"]
    assert batch.target_lengths.tolist() == [4, 4]
    with pytest.raises(ConfigError, match="max_length must be at least 1 or None, got 0"):
        encode_parallel(examples, tokenizer, tokenizer, source, target, max_length=0)


def test_collate_functions_pad_with_the_given_id():
    text = collate_classification([([4, 5], 1), ([6], 0)])
    assert text.ids.tolist() == [[4, 5], [6, 0]] and text.labels.tolist() == [1, 0]
    assert collate_classification([([4, 5], 1), ([6], 0)], pad_id=9).ids.tolist() == [
        [4, 5],
        [6, 9],
    ]
    pairs = collate_parallel([([4], [5, 6, 7]), ([8, 9], [1])], pad_id=9)
    assert pairs.source.tolist() == [[4, 9], [8, 9]] and pairs.source_lengths.tolist() == [1, 2]
    assert pairs.target.tolist() == [[5, 6, 7], [1, 9, 9]] and pairs.target_lengths.tolist() == [
        3,
        1,
    ]
    assert collate_parallel([([4], [5, 6]), ([8, 9], [1])]).target.tolist() == [[5, 6], [1, 0]]
    tagged = collate_tagging([([4, 5], [1, 0], 1, [[7], [8, 9]]), ([6], [2], 0, [[3]])], pad_id=9)
    assert tagged.ids.tolist() == [[4, 5], [6, 9]] and tagged.lengths.tolist() == [2, 1]
    assert tagged.tags.tolist() == [[1, 0], [2, TAG_PAD_ID]] and tagged.intents.tolist() == [1, 0]
    assert tagged.char_ids.tolist() == [[[7, 0], [8, 9]], [[3, 0], [0, 0]]]
    assert collate_tagging([([4, 5], [1, 0], None, None), ([6], [2], None, None)]).ids.tolist() == [
        [4, 5],
        [6, 0],
    ]


def test_an_empty_batch_keeps_int64_shapes():
    ids, lengths = pad_ids([])
    chars, char_lengths = pad_chars([])
    assert (ids.shape, chars.shape, char_lengths.shape) == ((0, 0), (0, 0, 0), (0, 0))
    assert {t.dtype for t in (ids, lengths, chars, char_lengths)} == {torch.long}
    assert collate_classification([]).labels.dtype == torch.long
    assert collate_tagging([]).intents.dtype == torch.long
    sentences, words = pad_chars([[]])  # one sentence without words
    assert sentences.shape == (1, 0, 0) and words.shape == (1, 0)


def test_padding_fraction_is_exact():
    assert padding_fraction([[0, 1]], [1, 3]) == pytest.approx(2 / 6)
    assert padding_fraction([], []) == 0.0


def test_sampler_takes_batches_and_pools_of_one():
    one = list(BucketBatchSampler(LENGTHS, batch_size=1, pool_batches=1, shuffle=False))
    assert one == [[i] for i in range(len(LENGTHS))]  # pools of one example keep the order
    assert list(BucketBatchSampler(LENGTHS, 4)) == list(BucketBatchSampler(LENGTHS, 4, seed=0))
    with pytest.raises(ConfigError, match=r"^pool_batches must be at least 1 or None, got 0$"):
        BucketBatchSampler(LENGTHS, 4, pool_batches=0)


def test_equal_lengths_keep_their_order_when_not_shuffled():
    lengths = [i % 3 for i in range(200)]
    flat = [i for b in BucketBatchSampler(lengths, 8, shuffle=False) for i in b]
    assert flat == sorted(range(200), key=lambda i: (lengths[i], i))


def test_each_epoch_groups_equal_lengths_differently():
    sampler = BucketBatchSampler([5] * 20, batch_size=4, seed=0)
    groups = []
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        groups.append({frozenset(batch) for batch in sampler})
    assert groups[0] != groups[1]


def test_drop_last_drops_the_batches_ranks_cannot_share():
    ranks = [BucketBatchSampler(LENGTHS, 4, drop_last=True, num_replicas=2, rank=r) for r in (0, 1)]
    assert [len(list(sampler)) for sampler in ranks] == [1, 1]  # 3 full batches -> 2

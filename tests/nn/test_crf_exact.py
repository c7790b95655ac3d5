"""CRF edge cases pinned exactly: one tag, tag dtypes, overflow-prone transitions, and the
argument checks' messages in full."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.crf import CRF, bio_constraints


def brute_force_log_partition(crf: CRF, emissions: torch.Tensor) -> torch.Tensor:
    """``log Z`` of one unpadded sentence ``emissions (T, K)`` by enumerating every path."""
    time, tags = emissions.shape
    scores = []
    for path in itertools.product(range(tags), repeat=time):
        total = crf.start_transitions[path[0]] + crf.end_transitions[path[-1]]
        total = total + sum(emissions[t, tag] for t, tag in enumerate(path))
        total = total + sum(crf.transitions[a, b] for a, b in itertools.pairwise(path))
        scores.append(total)
    return torch.stack(scores).logsumexp(0)


def test_a_single_tag_has_probability_one_even_with_padding():
    crf = CRF(1)
    with torch.no_grad():
        crf.transitions.fill_(0.5)
        crf.start_transitions.fill_(-1.0)
    emissions = torch.tensor([[[2.0], [3.0], [4.0]], [[1.0], [-7.0], [9.0]]])
    tags = torch.tensor([[0, 0, 0], [0, -100, -100]])
    log_likelihood = crf.log_likelihood(emissions, tags, torch.tensor([3, 1]))
    assert log_likelihood.tolist() == [0.0, 0.0]
    assert crf.decode(emissions, torch.tensor([3, 1])) == [[0, 0, 0], [0]]


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int32])
def test_tags_of_any_integer_dtype_score_like_int64(dtype):
    torch.manual_seed(0)
    crf = CRF(3)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    emissions = torch.randn(2, 4, 3, dtype=torch.float64)
    crf = crf.double()
    tags = torch.tensor([[2, 0, 1, 1], [1, 2, 0, 0]])
    lengths = torch.tensor([4, 2])
    expected = crf.log_likelihood(emissions, tags, lengths)
    assert torch.equal(crf.log_likelihood(emissions, tags.to(dtype), lengths), expected)


def test_one_large_transition_neither_overflows_nor_loses_exactness():
    # The forward algorithm shifts each column j of exp(A) by max_i A[i, j]; a shift by a
    # row's maximum instead would overflow exp(A[0, 1] - max_j A[1, j]) = exp(120).
    crf = CRF(3)
    with torch.no_grad():
        crf.transitions[0, 1] = 120.0
    emissions = torch.tensor([[[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [0.0, 3.0, 1.0]]])
    log_partition = crf.log_partition(emissions, torch.tensor([3]))
    expected = brute_force_log_partition(crf.double(), emissions[0].double())
    assert torch.isfinite(log_partition).all()
    torch.testing.assert_close(log_partition[0].double(), expected, atol=1e-4, rtol=1e-6)


def test_bio_types_may_contain_hyphens():
    allowed, allowed_start = bio_constraints(["O", "B-GEO-LOC", "I-GEO-LOC", "I-ORG"])
    assert allowed_start.tolist() == [True, True, False, False]
    assert allowed[:, 2].tolist() == [False, True, True, False]  # only after B-/I-GEO-LOC
    assert allowed[:, 3].tolist() == [False, False, False, True]


def test_num_tags_must_be_a_positive_int():
    assert CRF(1).num_tags == 1
    for bad in (True, 0, 2.0):
        with pytest.raises(ConfigError, match=f"num_tags: expected a positive integer, got {bad}"):
            CRF(bad)


def test_non_tensor_inputs_are_named_with_their_value():
    crf = CRF(2)
    with pytest.raises(ShapeError, match=r"emissions: expected shape \(B, T, 2\), got \[\[0.5\]\]"):
        crf.decode([[0.5]], torch.tensor([1]))
    with pytest.raises(ShapeError, match=r"tags: expected shape \(1, 1\) \(B, T\), got \[\[1\]\]"):
        crf.log_likelihood(torch.zeros(1, 1, 2), [[1]], torch.tensor([1]))


def test_an_empty_time_axis_is_named():
    with pytest.raises(
        ShapeError, match=r"emissions: expected shape \(B, T >= 1, 3\), got \(2, 0, 3\)"
    ):
        CRF(3).decode(torch.zeros(2, 0, 3), torch.tensor([1, 1]))


@pytest.mark.parametrize(
    ("tags", "bad"),
    [
        ([[0, 3]], 3),  # one past the last tag
        ([[0, 1, 2, 7]], 7),  # valid ids before it, including 0
        ([[1, -1, 3]], -1),  # the first bad id in order
    ],
)
def test_the_first_tag_out_of_range_is_reported(tags, bad):
    tags = torch.tensor(tags)
    with pytest.raises(
        ShapeError, match=rf"tags: expected ids in \[0, 3\) within each length, got {bad}$"
    ):
        CRF(3).log_likelihood(torch.zeros(*tags.shape, 3), tags, torch.tensor([tags.size(1)]))


def test_tags_past_each_length_are_not_checked():
    tags = torch.tensor([[0, 2, 9], [1, -100, 5]])
    result = CRF(3).log_likelihood(torch.zeros(2, 3, 3), tags, torch.tensor([2, 1]))
    assert result.shape == (2,)


def test_set_constraints_messages():
    crf = CRF(3)
    ok, ok_start = torch.ones(3, 3, dtype=torch.bool), torch.ones(3, dtype=torch.bool)
    with pytest.raises(ShapeError, match=r"^allowed: expected a bool tensor, got tensor"):
        crf.set_constraints(ok.float(), ok_start)
    with pytest.raises(ShapeError, match=r"^allowed_start: expected a bool tensor, got \[True\]"):
        crf.set_constraints(ok, [True])
    with pytest.raises(ShapeError, match=r"^allowed_start: expected shape \(3,\), got \(2,\)"):
        crf.set_constraints(ok, ok_start[:2])
    with pytest.raises(
        ConfigError, match=r"^allowed_start: expected at least one allowed first tag, got none$"
    ):
        crf.set_constraints(ok, torch.zeros(3, dtype=torch.bool))
    assert crf.allowed.all() and crf.allowed_start.all()  # nothing was applied

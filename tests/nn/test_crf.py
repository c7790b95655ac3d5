"""CRF: the forward algorithm and Viterbi against brute-force enumeration, masking, constraints."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.crf import CRF, bio_constraints

TAGS = ["B-X", "I-X", "O"]  # K = 3; "O → I-X" and "start → I-X" are forbidden
LENGTHS = torch.tensor([4, 1, 3, 2])


def make_crf(constrained: bool = False) -> CRF:
    torch.manual_seed(0)
    crf = CRF(len(TAGS))
    with torch.no_grad():  # random scores, so the test does not rely on zero transitions
        for parameter in crf.parameters():
            parameter.normal_()
    if constrained:
        crf.set_constraints(*bio_constraints(TAGS))
    return crf


def score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    """s(x, y) of one sentence, written straight from the definition."""
    total = crf.start_transitions[path[0]] + crf.end_transitions[path[-1]]
    for t, tag in enumerate(path):
        total = total + emissions[t, tag]
        if t:
            total = total + crf.transitions[path[t - 1], tag]
    return total


def is_allowed(path: tuple[int, ...]) -> bool:
    """BIO validity over TAGS, written independently of `bio_constraints`."""
    names = [TAGS[tag] for tag in path]
    return names[0] != "I-X" and all(
        not (b == "I-X" and a == "O") for a, b in itertools.pairwise(names)
    )


def all_paths(length: int, constrained: bool) -> list[tuple[int, ...]]:
    paths = itertools.product(range(len(TAGS)), repeat=length)
    return [p for p in paths if not constrained or is_allowed(p)]


@pytest.mark.parametrize("constrained", [False, True])
def test_forward_algorithm_equals_brute_force(constrained):
    crf = make_crf(constrained)
    emissions = torch.randn(4, 4, 3)
    tags = torch.randint(0, 3, (4, 4))
    tags[0] = torch.tensor([2, 0, 1, 1])  # a valid path for the constrained case
    tags[2, :3] = torch.tensor([0, 1, 2])
    tags[3, :2] = torch.tensor([2, 0])
    tags[1, 0] = 2
    log_likelihood = crf.log_likelihood(emissions, tags, LENGTHS)
    assert log_likelihood.shape == (4,)
    for b, n in enumerate(LENGTHS.tolist()):
        scores = torch.stack([score(crf, emissions[b], p) for p in all_paths(n, constrained)])
        expected = score(crf, emissions[b], tuple(tags[b, :n].tolist())) - scores.logsumexp(0)
        torch.testing.assert_close(log_likelihood[b], expected, atol=1e-5, rtol=0)
        torch.testing.assert_close(
            crf.log_partition(emissions, LENGTHS)[b], scores.logsumexp(0), atol=1e-5, rtol=0
        )


def test_large_scores_stay_exact_and_finite():
    # Scores hundreds of nats apart: the shifted-exp forward algorithm must neither overflow
    # nor turn an underflowing sum into -inf (and NaN gradients).
    crf = make_crf(constrained=True)
    with torch.no_grad():
        crf.transitions.mul_(50)
    emissions = (torch.randn(4, 4, 3) * 200).requires_grad_()
    tags = torch.tensor([[2, 0, 1, 1], [0, 2, 2, 2], [0, 1, 2, 0], [2, 0, 0, 0]])
    log_partition = crf.log_partition(emissions, LENGTHS)
    for b, n in enumerate(LENGTHS.tolist()):
        scores = torch.stack([score(crf, emissions[b], p) for p in all_paths(n, True)])
        torch.testing.assert_close(log_partition[b], scores.logsumexp(0), atol=1e-3, rtol=1e-6)
    crf.log_likelihood(emissions, tags, LENGTHS).sum().backward()
    assert torch.isfinite(emissions.grad).all() and torch.isfinite(crf.transitions.grad).all()


@pytest.mark.parametrize("constrained", [False, True])
def test_viterbi_equals_exhaustive_search(constrained):
    crf = make_crf(constrained)
    for seed in range(5):
        torch.manual_seed(seed)
        emissions = torch.randn(4, 4, 3) * 2
        decoded = crf.decode(emissions, LENGTHS)
        for b, n in enumerate(LENGTHS.tolist()):
            paths = all_paths(n, constrained)
            scores = torch.stack([score(crf, emissions[b], p) for p in paths])
            assert tuple(decoded[b]) == paths[int(scores.argmax())]


def test_padding_never_changes_likelihood_or_decoding():
    crf = make_crf(constrained=True)
    emissions = torch.randn(4, 4, 3)
    tags = torch.tensor([[2, 0, 1, 1], [0, -100, -100, -100], [0, 1, 2, -100], [2, 0, -100, -100]])
    log_likelihood = crf.log_likelihood(emissions, tags, LENGTHS)
    decoded = crf.decode(emissions, LENGTHS)
    garbage = torch.cat([emissions, torch.randn(4, 3, 3) * 50], dim=1)
    mask = torch.arange(7).unsqueeze(0) >= LENGTHS.unsqueeze(1)  # (B, 7) padding
    garbage[mask] = torch.randn(int(mask.sum()), 3) * 50
    garbage[1, 3, 0] = float("nan")
    padded_tags = torch.cat([tags, torch.randint(0, 3, (4, 3))], dim=1)
    torch.testing.assert_close(crf.log_likelihood(garbage, padded_tags, LENGTHS), log_likelihood)
    assert crf.decode(garbage, LENGTHS) == decoded
    for b, n in enumerate(LENGTHS.tolist()):  # each sentence alone, unpadded
        alone = crf.log_likelihood(
            emissions[b : b + 1, :n], tags[b : b + 1, :n], LENGTHS[b : b + 1]
        )
        torch.testing.assert_close(alone[0], log_likelihood[b])
        assert crf.decode(emissions[b : b + 1, :n], LENGTHS[b : b + 1]) == [decoded[b]]


def test_constraints_forbid_invalid_bio_paths():
    crf = make_crf(constrained=True)
    emissions = torch.zeros(2, 5, 3)
    emissions[:, :, 1] = 20.0  # I-X is by far the best tag everywhere...
    emissions[1, 2, 2] = 40.0  # ...except an O in the middle of the second sentence
    decoded = crf.decode(emissions, torch.tensor([5, 5]))
    for path in decoded:
        assert is_allowed(tuple(path))
    assert decoded == [[0, 1, 1, 1, 1], [0, 1, 2, 0, 1]]
    # A forbidden gold path has (numerically) zero probability, but a finite loss.
    forbidden = crf.log_likelihood(
        emissions[:1], torch.tensor([[2, 1, 1, 1, 1]]), torch.tensor([5])
    )
    assert forbidden.item() < -1000 and torch.isfinite(forbidden).all()


def test_bio_constraints_table():
    allowed, allowed_start = bio_constraints(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    assert allowed_start.tolist() == [True, True, False, True, False]
    assert allowed.tolist() == [
        [True, True, False, True, False],  # from O: never to I-
        [True, True, True, True, False],  # from B-PER: I-PER yes, I-LOC no
        [True, True, True, True, False],  # from I-PER
        [True, True, False, True, True],  # from B-LOC
        [True, True, False, True, True],  # from I-LOC
    ]
    with pytest.raises(ConfigError, match=r"tag_names: expected 'O', .* got 'E-PER'"):
        bio_constraints(["O", "E-PER"])


def test_gradients_flow():
    crf = make_crf(constrained=True)
    emissions = torch.randn(4, 4, 3, requires_grad=True)
    tags = torch.tensor([[2, 0, 1, 1], [0, -100, -100, -100], [0, 1, 2, -100], [2, 0, -100, -100]])
    (-crf.log_likelihood(emissions, tags, LENGTHS).sum()).backward()
    for tensor in (emissions, crf.transitions, crf.start_transitions, crf.end_transitions):
        assert tensor.grad is not None and torch.isfinite(tensor.grad).all()
    assert crf.transitions.grad.abs().sum() > 0
    assert emissions.grad[1, 1:].abs().max() == 0  # padding receives no gradient
    # Forbidden entries are constants: their gradient is exactly zero.
    assert crf.transitions.grad[2, 1] == 0 and crf.start_transitions.grad[1] == 0


def test_constraints_are_saved_with_the_weights():
    crf = make_crf(constrained=True)
    state = crf.state_dict()
    assert state["allowed"].dtype == torch.bool and not state["allowed"][2, 1]
    fresh = CRF(3)
    fresh.load_state_dict(state)
    emissions = torch.randn(2, 4, 3)
    assert fresh.decode(emissions, torch.tensor([4, 2])) == crf.decode(
        emissions, torch.tensor([4, 2])
    )


def test_wrong_shapes_name_the_argument():
    crf = CRF(3)
    with pytest.raises(
        ShapeError, match=r"emissions: expected shape \(B, T >= 1, 3\), got \(2, 4, 5\)"
    ):
        crf.decode(torch.randn(2, 4, 5), torch.tensor([4, 4]))
    with pytest.raises(ShapeError, match=r"emissions: expected shape \(B, T, 3\), got \(4, 3\)"):
        crf.decode(torch.randn(4, 3), torch.tensor([4, 4]))
    with pytest.raises(ShapeError, match=r"tags: expected shape \(2, 4\) \(B, T\), got \(2, 3\)"):
        crf.log_likelihood(torch.randn(2, 4, 3), torch.zeros(2, 3, dtype=torch.long), [4, 4])
    with pytest.raises(
        ShapeError, match=r"tags: expected ids in \[0, 3\) within each length, got 7"
    ):
        crf.log_likelihood(torch.randn(2, 4, 3), torch.full((2, 4), 7), torch.tensor([4, 4]))
    with pytest.raises(ShapeError, match=r"lengths: every length must be <= .* 4, got 5"):
        crf.decode(torch.randn(2, 4, 3), torch.tensor([5, 1]))
    with pytest.raises(ShapeError, match=r"allowed: expected shape \(3, 3\), got \(2, 2\)"):
        crf.set_constraints(torch.ones(2, 2, dtype=torch.bool), torch.ones(3, dtype=torch.bool))
    with pytest.raises(ConfigError, match=r"num_tags: expected a positive integer, got 0"):
        CRF(0)

"""The variable-length helpers on small exact cases: masks, in-length reversal, last steps,
and the length checks' messages."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ShapeError
from rnnkit.nn.masking import (
    check_lengths,
    gather_last_steps,
    reverse_index,
    reverse_within_lengths,
    valid_mask,
)

LENGTHS = torch.tensor([3, 1, 2])


def test_valid_mask_marks_steps_before_each_length():
    assert valid_mask(LENGTHS, 4).tolist() == [
        [True, True, True, False],
        [True, False, False, False],
        [True, True, False, False],
    ]


def test_reverse_index_reverses_inside_each_length_and_undoes_itself():
    index = reverse_index(LENGTHS, 4)
    assert index.tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [1, 0, 2, 3]]
    sequence = torch.arange(24.0).view(3, 4, 2)
    reversed_sequence = reverse_within_lengths(sequence, index)
    assert reversed_sequence[:, :, 0].tolist() == [
        [4.0, 2.0, 0.0, 6.0],
        [8.0, 10.0, 12.0, 14.0],
        [18.0, 16.0, 20.0, 22.0],
    ]
    assert torch.equal(reversed_sequence[..., 1], reversed_sequence[..., 0] + 1)
    assert torch.equal(reverse_within_lengths(reversed_sequence, index), sequence)


def test_gather_last_steps_reads_each_sequence_at_its_length():
    sequence = torch.arange(24.0).view(3, 4, 2)
    assert gather_last_steps(sequence, LENGTHS).tolist() == [[4.0, 5.0], [8.0, 9.0], [18.0, 19.0]]


@pytest.mark.parametrize(
    "lengths", [[3, 1, 2], (3, 1, 2), torch.tensor([3, 1, 2], dtype=torch.int32)]
)
def test_check_lengths_returns_a_cpu_long_tensor(lengths):
    checked = check_lengths(lengths, 3, 3)
    assert checked.dtype == torch.long and checked.device.type == "cpu"
    assert checked.tolist() == [3, 1, 2]


@pytest.mark.parametrize(
    ("lengths", "batch", "time", "message"),
    [
        ([[3, 1]], 2, 3,
         r"lengths: expected shape \(2,\) to match the input's batch, got \(1, 2\)"),
        ([3, 1], 3, 3, r"lengths: expected shape \(3,\) to match the input's batch, got \(2,\)"),
        ([3.0, 1.0], 2, 3, r"lengths: expected an integer tensor, got dtype torch.float32"),
        ([True, True], 2, 3, r"lengths: expected an integer tensor, got dtype torch.bool"),
        ([2, 0], 2, 3, r"lengths: every length must be >= 1, got 0"),
        ([1, -1, 4], 3, 3, r"lengths: every length must be >= 1, got -1"),
        ([4, 1], 2, 3, r"lengths: every length must be <= the input's time size 3, got 4"),
    ],
)  # fmt: skip
def test_check_lengths_names_what_is_wrong(lengths, batch, time, message):
    with pytest.raises(ShapeError, match=f"^{message}$"):
        check_lengths(lengths, batch, time)


def test_lengths_at_the_bounds_are_accepted():
    assert check_lengths([1, 3], 2, 3).tolist() == [1, 3]

"""BIO checking: invalid moves found, counted, located; repaired or kept only when asked."""

from __future__ import annotations

import pytest

from rnnkit.data import TaggedExample
from rnnkit.data.bio import check_bio, invalid_bio_positions
from rnnkit.errors import ConfigError, DataError


def example(tags: str, line: int = 1) -> TaggedExample:
    tag_list = tags.split()
    return TaggedExample([f"w{i}" for i in range(len(tag_list))], tag_list, None, "t.tsv", line)


@pytest.mark.parametrize(
    ("tags", "positions"),
    [
        ("B-X I-X O", []),
        ("I-X I-X", [0]),
        ("O I-X", [1]),
        ("B-X I-Y I-Y", [1]),
        ("B-X I-X B-X I-X", []),
        ("I-X B-Y I-X", [0, 2]),
    ],
)
def test_invalid_positions(tags, positions):
    assert invalid_bio_positions(tags.split()) == positions


def test_error_mode_counts_and_locates():
    examples = [example("O I-X I-X", 1), example("B-X I-X", 5), example("I-Y", 9)]
    with pytest.raises(DataError) as error:
        check_bio(examples)
    message = str(error.value)
    assert "2 invalid BIO tags" in message and "in 2 sentences" in message
    assert "t.tsv:1 token 2 ('w1' tagged 'I-X')" in message and "t.tsv:9 token 1" in message


def test_repair_and_keep():
    examples = [example("O I-X I-X"), example("B-Y")]
    repaired = check_bio(examples, "repair")
    assert repaired.examples[0].tags == ["O", "B-X", "I-X"] and repaired.invalid == 1
    assert examples[0].tags == ["O", "I-X", "I-X"]  # the input is not changed
    kept = check_bio(examples, "keep")
    assert kept.examples[0].tags == ["O", "I-X", "I-X"] and kept.sentences == 1


def test_tags_outside_the_scheme_always_raise():
    with pytest.raises(DataError, match=r"t.tsv:3: token 2 \('w1'\): expected a BIO tag .* 'PER'"):
        check_bio([example("O PER", 3)], "repair")
    with pytest.raises(ConfigError, match="invalid_bio: expected one of"):
        check_bio([], "ignore")


def test_error_message_in_full_shows_three_locations_then_dots():
    examples = [example("I-X", line) for line in (1, 2, 3, 4)]
    with pytest.raises(DataError) as error:
        check_bio(examples)
    assert str(error.value) == (
        "4 invalid BIO tags (I-X not continuing an X entity) in 4 sentences, first at "
        "t.tsv:1 token 1 ('w0' tagged 'I-X'); t.tsv:2 token 1 ('w0' tagged 'I-X'); "
        "t.tsv:3 token 1 ('w0' tagged 'I-X') ...; repair them with --set data.invalid_bio=repair "
        "(or keep them with --set data.invalid_bio=keep)"
    )
    with pytest.raises(DataError, match=r"first at t.tsv:1 token 1 \('w0' tagged 'I-X'\); repair"):
        check_bio(examples[:1])  # every sentence shown: no dots


@pytest.mark.parametrize(
    ("mode", "action"), [("repair", "repaired (I-X → B-X)"), ("keep", "kept as they are")]
)
def test_repair_and_keep_log_the_count_and_the_action(mode, action, caplog):
    with caplog.at_level("WARNING", logger="rnnkit"):
        check_bio([example("O I-X"), example("B-X")], mode)
    assert caplog.messages == [
        "1 invalid BIO tags (I-X not continuing an X entity) in 1 sentences, first at "
        f"t.tsv:1 token 2 ('w1' tagged 'I-X'): {action}; --set data.invalid_bio=error stops "
        "instead"
    ]


def test_tag_names_need_b_or_i_and_a_type():
    for tag in ("X-PER", "B-", "I"):
        with pytest.raises(DataError, match=rf"expected a BIO tag .*, got '{tag}'$"):
            check_bio([example(f"O {tag}")], "keep")
    assert check_bio([example("B-sub-type I-sub-type O")]).invalid == 0  # types may hold '-'

"""benchmarks/recipes.py: a recorded run is reused only when it was made with the same config."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.append(str(BENCHMARKS))  # after site-packages: shadows nothing

from recipes import CANDIDATES, LS_RETRIED, config_sha, recorded  # noqa: E402
from rnnkit.config import apply_overrides  # noqa: E402
from rnnkit.tasks.classification import ClassifyConfig  # noqa: E402

ARGS = argparse.Namespace(max_train=None, max_dev=None)


def sha(*overrides: str) -> str:
    return config_sha(apply_overrides(ClassifyConfig(), list(overrides)))


def test_the_hash_ignores_paths_and_seed_and_sees_every_setting():
    base = sha()
    assert sha("data.train=a.tsv", "data.dev=b.tsv", "trainer.seed=14") == base
    assert sha("model.word_dropout=0") != base
    assert sha("trainer.lr=1e-3") != base


def test_a_row_is_reused_only_with_its_own_config():
    key = ("classify", "trec", "defaults", 13)
    row = {"task": "classify", "dataset": "trec", "candidate": "defaults", "seed": 13,
           "max_train": None, "max_dev": None}  # fmt: skip
    assert recorded([{**row, "config_sha": sha()}], key, sha(), ARGS)
    assert recorded([row], key, sha(), ARGS)  # rows from before the hash: trusted by name
    assert not recorded([{**row, "seed": 14}], key, sha(), ARGS)
    assert not recorded([row], key, sha(), argparse.Namespace(max_train=2000, max_dev=None))
    other = sha("model.word_dropout=0")
    with pytest.raises(SystemExit, match=rf"trec/defaults/13 is recorded with config {other}, "
                       rf"but the candidate's config is now {sha()}"):  # fmt: skip
        recorded([{**row, "config_sha": other}], key, sha(), ARGS)


@pytest.mark.parametrize("name", LS_RETRIED)
def test_an_ls_candidate_is_its_namesake_on_top_of_label_smoothing(name):
    # the namesake keeps the loss it was measured with; the `ls-` twin takes today's default
    assert CANDIDATES[name] == ("model.label_smoothing=0", *CANDIDATES[f"ls-{name}"])
    label_smoothed = apply_overrides(ClassifyConfig(), list(CANDIDATES[f"ls-{name}"]))
    assert label_smoothed.model.label_smoothing == 0.1
    assert sha(*CANDIDATES[f"ls-{name}"]) != sha(*CANDIDATES[name])


def test_the_learning_rate_candidates_and_the_pin_on_the_earlier_ones():
    # lr3 is today's defaults; lr2 and every candidate measured before keep 2e-3
    assert sha(*CANDIDATES["lr3"]) == sha()
    assert sha(*CANDIDATES["lr2"]) == sha("trainer.lr=2e-3") != sha()
    # lr4 is today's defaults (label smoothing included) with only the rate changed
    assert sha(*CANDIDATES["lr4"]) == sha("trainer.lr=4e-3") != sha()
    # lr3-gru is today's defaults with a GRU; gru keeps the rate and loss it was measured with
    assert sha(*CANDIDATES["lr3-gru"]) == sha("model.cell=gru")
    assert sha(*CANDIDATES["gru"]) == sha(
        "model.cell=gru", "trainer.lr=2e-3", "model.label_smoothing=0"
    )  # fmt: skip
    for name in ("ls-b32", "no-label-smoothing", "max-chars"):
        assert apply_overrides(ClassifyConfig(), list(CANDIDATES[name])).trainer.lr == 2e-3
    searched = apply_overrides(ClassifyConfig(), list(CANDIDATES["searched-sst2"]))
    assert searched.trainer.lr == 1.3e-3  # a candidate's own rate wins over the pin


def test_ema2_doubles_the_averaging_horizon_and_its_cap():
    # today's defaults (no rate or loss pinned) with twice the horizon, and averaging still on
    # for exactly the sets where the defaults use it: epochs of at most 250 steps
    assert sha(*CANDIDATES["ema2"]) == sha("trainer.ema_epochs=2", "trainer.ema_max_steps=500")
    default, longer = (
        ClassifyConfig().trainer,
        apply_overrides(ClassifyConfig(), list(CANDIDATES["ema2"])).trainer,
    )
    assert longer.ema_epochs == 2 * default.ema_epochs
    assert longer.ema_max_steps == 2 * default.ema_max_steps


def test_decay01_is_todays_defaults_with_ten_times_the_weight_decay():
    assert sha(*CANDIDATES["decay01"]) == sha("trainer.weight_decay=0.1") != sha()
    decayed = apply_overrides(ClassifyConfig(), list(CANDIDATES["decay01"])).trainer
    assert decayed.weight_decay == pytest.approx(10 * ClassifyConfig().trainer.weight_decay)


def test_the_recorded_rows_of_the_defaults_are_todays_defaults():
    # the targets table is made of these rows: a setting added since with no effect on the runs
    # (recipes.ADDED_WITHOUT_EFFECT) keeps their hash; a changed default does not
    rows = (BENCHMARKS / "results" / "recipes-control.jsonl").read_text(encoding="utf-8")
    recorded_shas = {
        json.loads(line)["config_sha"]
        for line in rows.splitlines()
        if json.loads(line)["candidate"] == "defaults"
    }
    assert recorded_shas == {sha(*CANDIDATES["defaults"])}
    assert sha("data.normalize=NFKC") != sha() != sha("data.dev_holdout=0.2")

"""Each worker of a search, and a resumed search, draws its own random start-up trials."""

from __future__ import annotations

from rnnkit.tuning.settings import Plan, TuneSettings
from rnnkit.tuning.study import open_study, sampler_seed


def plan_at(tmp_path) -> Plan:
    """The fields of a plan that the study reads: where it lives, its name and direction."""
    tmp_path.mkdir(exist_ok=True)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    return Plan(None, None, None, storage, "search", "maximize", "accuracy")


def first_proposal(study) -> float:
    return study.ask().suggest_float("lr", 1e-4, 1e-2, log=True)


def test_the_first_worker_of_a_new_study_keeps_the_seed_and_the_rest_draw_their_own():
    assert sampler_seed(13, 0, 0) == 13
    seeds = {sampler_seed(13, worker, started) for worker in range(3) for started in range(3)}
    assert len(seeds) == 9
    assert sampler_seed(13, 1, 0) == sampler_seed(13, 1, 0) != sampler_seed(14, 1, 0)


def test_two_workers_and_a_resumed_search_propose_different_trials(tmp_path):
    settings = TuneSettings("classify", tmp_path, budget_minutes=1)
    plan = plan_at(tmp_path)
    alone = open_study(plan_at(tmp_path / "alone"), settings)
    first, second = open_study(plan, settings, 0), open_study(plan, settings, 1)
    proposals = [first_proposal(first), first_proposal(second)]
    assert proposals[0] != proposals[1]  # one seed in both: the same start-up trial
    resumed = open_study(plan, settings, 0)  # two trials started before it
    assert first_proposal(resumed) not in proposals
    again = open_study(plan_at(tmp_path / "again"), settings)
    assert first_proposal(again) == first_proposal(alone)  # one worker, one seed: repeatable

"""The fun-minigrid verdict: computed from the per-seed numbers, and honest about baselines that
did not learn (then the run does not isolate the hierarchy)."""

from __future__ import annotations

from hrrl.experiments import _fun_minigrid_report as fr


def _summary(**success: list[float]) -> dict:
    return {
        m: {"eval_success": {"mean": sum(v) / len(v), "per_seed": v}} for m, v in success.items()
    }


def test_flat_a2c_that_did_not_learn_is_named_as_the_limit():
    s = _summary(fun=[0.1, 0.2, 0.1], a2c=[0.2, 0.3, 0.2], a2c_lstm=[0.1, 0.2, 0.3],
                 ppo=[0.8, 0.9, 0.7], sb3_ppo=[1.0, 1.0, 1.0])  # fmt: skip
    text, headline = fr.verdict(s)
    assert text.startswith("**Not reproduced**") and "does not isolate the hierarchy" in text
    assert headline["same_update_baselines_learned"] is False
    assert headline["best_flat"] == "sb3_ppo" and not headline["fun_beats_best_flat"]


def test_learned_baselines_drop_the_caveat_and_a_clear_win_is_reproduced():
    s = _summary(fun=[0.95, 0.97, 0.96], a2c=[0.6, 0.7, 0.65], a2c_lstm=[0.5, 0.6, 0.55],
                 ppo=[0.6, 0.62, 0.61], sb3_ppo=[0.7, 0.72, 0.71])  # fmt: skip
    text, headline = fr.verdict(s)
    assert text.startswith("**Reproduced at this budget**")
    assert "does not isolate" not in text and headline["same_update_baselines_learned"] is True

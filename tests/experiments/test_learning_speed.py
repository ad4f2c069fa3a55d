"""The censored learning-speed summaries shared by the Four Rooms experiments."""

from hrrl.experiments._learning_speed import cell, censored_summary, pick, speedup


def _trials():
    rows = [("flat-Q", 100), ("flat-Q", None), ("options", 50), ("options", 30)]
    return [{"goal": "G1", "method": m, "episodes": v} for m, v in rows]


def test_censored_trials_count_at_the_budget_and_the_ci_stays_in_range():
    summary = censored_summary(_trials(), "episodes", budget=200, floor=10,
                               goals=["G1"], methods=["flat-Q", "options"])  # fmt: skip
    flat = summary["G1"]["flat-Q"]
    assert flat["mean"] == 150 and flat["never"] == 1 and flat["n"] == 2
    assert 10 <= flat["ci95"][0] <= flat["ci95"][1] <= 200
    assert cell(flat).endswith("(1 never)")
    assert pick(_trials(), "G1", "options", "episodes") == [50, 30]


def test_a_speedup_over_a_censored_reference_is_a_lower_bound():
    summary = censored_summary(_trials(), "episodes", budget=200, floor=10,
                               goals=["G1"], methods=["flat-Q", "options"])  # fmt: skip
    assert speedup(summary, "G1", "options") == "≥ 3.75×"
    assert speedup(summary, "G1", "flat-Q") == "1 (reference)"

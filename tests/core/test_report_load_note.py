"""core.report.load_note: its verdict follows the load, not a fixed sentence."""

from hrrl.core.report import load_note


def test_load_note_says_inflated_only_above_the_core_count():
    busy = load_note((5.0, 6.5, 4.0), cores=3)
    assert "6.5" in busy and "3 cores" in busy
    assert "above the core count" in busy and "inflated" in busy
    idle = load_note((0.3, 0.8, 1.2), cores=2)
    assert "not above the core count" in idle and "inflated" not in idle
    assert "idle" in idle


def test_load_note_at_exactly_the_core_count_is_not_inflated():
    assert "not above" in load_note((2.0, 2.0, 2.0), cores=2)


def test_load_note_defaults_to_this_machine():
    text = load_note()
    assert text.startswith("load average at the end") and text.endswith(".")

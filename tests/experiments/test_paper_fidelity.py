"""Fidelity to the paper's text (our copy: shared/seeds/000_*.txt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrrl.experiments import reproduce_report as rr

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_e576dbdaa08fea51.txt"


def test_example_path_of_section_5_4_is_checked_and_invalid() -> None:
    text = rr.paper_example_check()
    assert "59 moves" in text and "**invalid**" in text
    assert "174 → 178 (+4)" in text and "198 → 204 (+6)" in text and "229 → 235 (+6)" in text


@pytest.mark.skipif(not SEED.is_file(), reason="the paper's text is not next to this checkout")
def test_quoted_claims_are_on_the_cited_lines() -> None:
    lines = SEED.read_text().splitlines()
    assert "23%" in lines[264 - 1] and "148.3" in lines[264 - 1]
    assert "Vanilla Hierarchical RL" in lines[265 - 1] and "67%" in lines[265 - 1]
    assert "No Relational Features" in lines[276 - 1] and "17%" in lines[276 - 1]
    path = [int(x) for x in lines[291 - 1].split(" → ")]
    assert tuple(path) == rr.PAPER_EXAMPLE_278
    assert rr.PAPER_TABLE_5_3["no-decomposition"].startswith("33 %")

"""HRRL configs: presets, JSON files over the default, one-line errors, ablations."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hrrl.agents.hrrl import HRRLConfig, get_config
from hrrl.agents.hrrl.config import config_from_dict
from hrrl.errors import InputError


def test_presets_follow_the_paper_and_ours() -> None:
    paper, default = get_config("paper"), get_config("default")
    assert (paper.batch_size, paper.lr, paper.buffer_capacity, paper.episodes) == (
        64,
        5e-4,
        10_000,
        5_000,
    )
    assert paper.reward == "paper" and paper.waypoints == "exact" and paper.features == "paper"
    assert default.reward == "relative" and default.waypoints == "soft"
    assert default.features == "local"


def test_json_file_overrides_fields_of_default(tmp_path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"episodes": 10, "curriculum_stages": [[5, 6]], "lr": 0.001}))
    config = get_config(str(path))
    assert config.episodes == 10 and config.curriculum_stages == ((5, 6),)
    assert config.hidden == HRRLConfig().hidden


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"nope": 1}', "unknown HRRL config field"),
        ('{"episodes": "many"}', "must be an integer"),
        ('{"episodes": 0}', "episodes must be at least 1"),
        ('{"features": "pixels"}', "features must be one of"),
        ('{"decomposition": 1}', "must be true or false"),
        ("[1, 2]", "must hold a JSON object"),
        ("{not json", "cannot read HRRL config"),
    ],
)
def test_bad_files_raise_one_line_input_errors(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        get_config(str(path))
    assert "\n" not in str(info.value)


def test_unknown_name_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown HRRL config 'fancy'"):
        get_config("fancy")


def test_replace_gives_validated_ablations() -> None:
    base = get_config("default")
    ablation = dataclasses.replace(
        base, decomposition=False, relational_features=False, phase_heads=False, curriculum=False
    )
    assert ablation.feature_set == "raw"
    with pytest.raises(InputError):
        dataclasses.replace(base, waypoints="fuzzy")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("value_expectile", 0.0, "value_expectile"),
        ("value_expectile", 1.0, "value_expectile"),
        ("manager_commit", 0.0, "manager_commit"),
        ("manager_commit", 1.5, "manager_commit"),
    ],
)
def test_v2_search_and_value_fields_are_validated(field: str, value: float, message: str) -> None:
    with pytest.raises(InputError, match=message):
        dataclasses.replace(get_config("v2-budgeted-expectile"), **{field: value})


def test_older_v2_runs_load_with_the_old_loss_and_manager() -> None:
    """A stored config without the newer fields reads back as the squared-error fit with the
    manager's earlier defaults (no tree reuse, half commits)."""
    stored = json.loads(json.dumps(get_config("v2-budgeted").to_json()))  # as state.json holds it
    newer = ("value_expectile", "manager_commit", "manager_reuse")
    config = config_from_dict({k: v for k, v in stored.items() if k not in newer})
    assert config.value_expectile == 0.5 and config.manager_commit == 0.5
    assert not config.manager_reuse and config.manager_budget == 128

import json
import subprocess
import sys

import pytest

from hrrl.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_solve_prints_the_optimal_path(capsys):
    code, out, _ = run(capsys, "solve", "--target", "123", "--forbidden", "23,45,67,89")
    assert code == 0
    assert "25 steps" in out


def test_solve_json_is_a_spec_row(capsys):
    code, out, _ = run(
        capsys, "solve", "--target", "278", "--forbidden", "51,102,177,203,234", "--json"
    )
    row = json.loads(out)
    assert code == 0
    assert row["status"] == "solved" and row["steps"] == row["optimal_steps"] == 56
    assert row["path"][0] == 0 and row["path"][-1] == 278
    assert set(row) >= {"id", "status", "steps", "path", "optimal_steps", "reason", "elapsed_s"}


def test_infeasible_exits_1_with_the_reason(capsys):
    code, out, _ = run(
        capsys, "solve", "--target", "431", "--forbidden", "78,156,234,312,389", "--max-steps", "80"
    )
    assert code == 1
    assert "needs 87 steps, budget is 80" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["solve", "--target", "abc"], "--target must be an integer"),
        (["solve", "--target", "1.5"], "--target must be an integer"),
        (["solve"], "--target is required"),
        (["solve", "--target", "10", "--forbidden", "10"], "target 10 is in the forbidden set"),
        (["solve", "--target", "10", "--forbidden", "0"], "start 0 is in the forbidden set"),
        (["solve", "--target", "10", "--start", "3", "--forbidden", "3"], "start 3"),
        (["solve", "--target", "10", "--actions", ""], "actions must not be empty"),
        (["solve", "--target", "10", "--actions", "0,1"], "non-zero"),
        (["solve", "--target", "10", "--actions", "1,3,1"], "distinct"),
        (["solve", "--target", "10", "--actions", "1,x"], "--actions must be comma-separated"),
        (["solve", "--target", "10", "--forbidden", "1,,2"], "--forbidden must be"),
        (["solve", "--target", "10", "--max-steps", "0"], "max_steps must be at least 1"),
        (["solve", "--target", "10", "--max-steps", "-4"], "max_steps must be at least 1"),
        (["solve", "--target", "900000000"], "search window"),
        (["solve", "--target", "99999999999"], "beyond the supported range"),
        (
            ["solve", "--target", "10", "--actions=-1,2", "--max-steps", "900000000"],
            "search window",
        ),
        (["evaluate", "--problems", "/nonexistent.jsonl", "--out", "x"], "not found"),
        (["evaluate", "--suite", "paper", "--method", "magic", "--out", "x"], "unknown method"),
        (["evaluate", "--suite", "nope", "--out", "x"], "unknown suite"),
        (["evaluate", "--out", "x"], "give --problems FILE or --suite NAME"),
        (["solve", "--target", "10", "--agent", "/nonexistent"], "agent not found"),
        (["experiment", "no-such-experiment", "--out", "x"], "unknown experiment"),
        (["experiment", "her-bitflip", "--workers", "0", "--out", "x"], "must be at least 1"),
        (["experiment", "her-bitflip", "--seeds", "0", "--out", "x"], "must be at least 1"),
        (["reproduce", "--workers", "two"], "expected an integer"),
        (["reproduce", "--seeds", "-1"], "must be at least 1"),
        (["problems", "generate", "--out", "x"], "give --suite NAME"),
        (
            ["problems", "generate", "--count", "3", "--targets", "9:2", "--out", "x"],
            "empty target",
        ),
        (
            [
                "problems",
                "generate",
                "--count",
                "3",
                "--targets",
                "5:50",
                "--budget",
                "soon",
                "--out",
                "x",
            ],
            "budget rule",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_argparse_errors_are_one_line_too(capsys):
    code, _, err = run(capsys, "solve", "--bogus")
    assert code == 2
    assert err.count("\n") == 1 and "unrecognized arguments" in err


def test_agent_dir_without_state_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "solve", "--target", "10", "--agent", str(tmp_path))
    assert code == 2 and "no trained agent" in err


def test_evaluate_reports_malformed_lines_and_runs_the_rest(capsys, tmp_path):
    problems = tmp_path / "p.jsonl"
    problems.write_text(
        '{"id": "a", "target": 123, "forbidden": [23, 45, 67, 89], "category": "paper"}\n'
        "not json\n\n"
        '{"id": "b", "target": 20, "forbidden": [15, 17, 19]}\n'
    )
    out_file = tmp_path / "r.jsonl"
    code, out, err = run(
        capsys,
        "evaluate",
        "--problems",
        str(problems),
        "--method",
        "optimal",
        "--out",
        str(out_file),
    )
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert code == 0
    assert [r["status"] for r in rows] == ["solved", "error", "infeasible"]
    assert rows[0]["category"] == "paper" and rows[0]["steps"] == 25
    assert "line 2" in rows[1]["reason"] and "line 2" in err
    assert "paper" in out


def test_generate_is_deterministic_and_round_trips(capsys, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    args = [
        "problems",
        "generate",
        "--count",
        "5",
        "--targets",
        "10:200",
        "--forbidden",
        "2:8",
        "--seed",
        "3",
    ]
    assert run(capsys, *args, "--out", str(a))[0] == 0
    assert run(capsys, *args, "--out", str(b))[0] == 0
    assert a.read_text() == b.read_text()
    assert len(a.read_text().splitlines()) == 5
    code, _, _ = run(
        capsys,
        "evaluate",
        "--problems",
        str(a),
        "--method",
        "greedy",
        "--out",
        str(tmp_path / "r.jsonl"),
    )
    assert code == 0


def test_paper_suite_file(capsys, tmp_path):
    out = tmp_path / "paper.jsonl"
    assert run(capsys, "problems", "generate", "--suite", "paper", "--out", str(out))[0] == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["target"] for r in rows] == [123, 278, 431]
    assert rows[1]["forbidden"] == [51, 102, 177, 203, 234]


def test_real_process_has_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "hrrl", "solve", "--target", "oops"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "hrrl: error: --target must be an integer, got 'oops'"

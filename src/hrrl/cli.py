"""The ``hrrl`` command line: parse, call the library, print. Errors are one line, exit code 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from hrrl.core.atomic import check_output, check_output_dir
from hrrl.errors import InputError

if TYPE_CHECKING:
    from hrrl.problem import Problem
    from hrrl.result import ResultRow

DESCRIPTION = """\
Hierarchical reinforcement learning on the number-line puzzle, measured against an exact solver,
and classic hierarchical / meta-RL experiments. Problems and results are JSON Lines
(docs/FORMAT.md). Exit codes: 0 solved or done, 1 not solved, 2 invalid input (one line on
stderr).
"""

EPILOG = """\
examples:
  hrrl solve --target 278 --forbidden 51,102,177,203,234
  hrrl problems generate --suite paper --out paper.jsonl
  hrrl evaluate --problems paper.jsonl --method greedy --out greedy.jsonl
  hrrl train --config default --out runs/hrrl      (then: hrrl train --resume runs/hrrl)
  hrrl evaluate --problems paper.jsonl --agent runs/hrrl --out agent.jsonl
  hrrl experiment --list

'hrrl COMMAND --help' describes each command.
"""

EXIT_OK, EXIT_NOT_SOLVED, EXIT_INVALID = 0, 1, 2
PATH_PREVIEW = 12
PIPE_WIDTH = 240
"""Width of tables printed to a pipe or file (a terminal uses its own width)."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line (no usage dump) with exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _int_list(text: str, name: str) -> list[int]:
    text = text.strip()
    if not text:
        return []
    values = []
    for part in text.split(","):
        part = part.strip()
        try:
            values.append(int(part))
        except ValueError:
            raise InputError(f"{name} must be comma-separated integers, got {part!r}") from None
    return values


def _int_arg(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{name} must be an integer, got {text!r}") from None


def _range_arg(text: str, name: str) -> tuple[int, int]:
    parts = text.split(":")
    if len(parts) == 1:
        value = _int_arg(parts[0], name)
        assert value is not None
        return (value, value)
    if len(parts) != 2:
        raise InputError(f"{name} must be LO:HI, got {text!r}")
    lo, hi = (_int_arg(p, name) for p in parts)
    assert lo is not None and hi is not None
    return (lo, hi)


# ---- solve ---------------------------------------------------------------------------------
def cmd_solve(args: argparse.Namespace) -> int:
    from hrrl.evaluation import evaluate
    from hrrl.problem import DEFAULT_ACTIONS, make_problem

    if args.target is None:
        raise InputError("--target is required")
    problem = make_problem(
        target=_int_arg(args.target, "--target"),
        forbidden=_int_list(args.forbidden or "", "--forbidden"),
        actions=_int_list(args.actions, "--actions")
        if args.actions is not None
        else DEFAULT_ACTIONS,
        start=_int_arg(args.start, "--start") or 0,
        max_steps=_int_arg(args.max_steps, "--max-steps"),
        id="cli",
    )
    policy = None
    if args.agent is not None:
        from hrrl.agents.registry import load_policy

        policy = load_policy(args.agent, mask=args.mask)
    row = evaluate([problem], policy)[0]
    if row.status == "error":
        raise InputError(row.reason or "invalid problem")
    if args.json:
        print(json.dumps(row.to_json()))
    else:
        _print_solution(row, getattr(policy, "name", "exact solver"))
    if args.plot is not None and row.path:
        _plot(problem, row, policy, args.plot)
    return EXIT_OK if row.solved else EXIT_NOT_SOLVED


def _plot(problem: Problem, row: ResultRow, policy: Any, out: str) -> None:
    """``--plot``: the field, the path and the manager's subgoals (when the agent has any)."""
    from hrrl.agents.hrrl.plot import plot_solution

    stats = getattr(policy, "stats", {}).get(problem.id)
    subgoals = list(getattr(stats, "subgoals", []) or [])
    name = getattr(policy, "name", "exact solver")
    title = f"{name}: {row.status} in {row.steps} steps (optimal {row.optimal_steps})"
    print(f"plot: {plot_solution(problem, list(row.path or ()), subgoals, out, title)}")


def _print_solution(row: ResultRow, method: str) -> None:
    if row.status == "solved":
        print(f"solved by {method} in {row.steps} steps (optimal {row.optimal_steps})")
        print("path: " + _path_text(row.path or ()))
    elif row.status == "failed":
        print(f"not solved by {method}: {row.reason} (optimal {row.optimal_steps})")
        print("path: " + _path_text(row.path or ()))
    else:
        print(f"{row.status}: {row.reason}")


def _path_text(path: Sequence[int]) -> str:
    if len(path) <= 2 * PATH_PREVIEW:
        return " → ".join(map(str, path))
    head = " → ".join(map(str, path[:PATH_PREVIEW]))
    tail = " → ".join(map(str, path[-PATH_PREVIEW:]))
    return f"{head} → … ({len(path) - 2 * PATH_PREVIEW} more) … → {tail}"


# ---- evaluate --------------------------------------------------------------------------------
METHODS = ("optimal", "greedy", "random")


def _method_policy(name: str, seed: int) -> Any:
    from hrrl.policies import GreedyPolicy, RandomPolicy

    if name == "optimal":
        return None
    if name == "greedy":
        return GreedyPolicy()
    if name == "random":
        return RandomPolicy(seed=seed)
    raise InputError(f"unknown method {name!r}; known: {', '.join(METHODS)}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from hrrl.core.progress import advance, progress_bar
    from hrrl.evaluation import evaluate
    from hrrl.suites.jsonl import read_problems, write_rows

    if args.agent is not None and args.method is not None:
        raise InputError("give --agent or --method, not both")
    if (args.problems is None) == (args.suite is None):
        raise InputError("give --problems FILE or --suite NAME")
    check_output(args.out, inputs=[args.problems, *_agent_files(args.agent)])
    inputs: list[Problem | ResultRow]
    errors: list[str] = []
    if args.problems is not None:
        lines = read_problems(args.problems)
        inputs = [line.as_input() for line in lines]
        errors = [line.error for line in lines if line.error is not None]
    else:
        from hrrl.suites.builtin import builtin_suite

        inputs = list(builtin_suite(args.suite, args.seed))
    if args.agent is not None:
        from hrrl.agents.registry import load_policy

        policy = load_policy(args.agent, mask=args.mask)
        label = f"agent {args.agent}" + (" (action mask on)" if args.mask else "")
    else:
        policy = _method_policy(args.method or "optimal", args.seed)
        label = args.method or "optimal"
    with progress_bar(f"evaluating {label}", total=len(inputs)) as bar:
        rows = evaluate(inputs, policy, progress=lambda n: advance(bar, n))
    write_rows(args.out, rows)
    for error in errors:
        print(f"hrrl: skipped invalid {error}", file=sys.stderr)
    _print_summary(rows, label)
    print(f"wrote {len(rows)} rows to {args.out}")
    return EXIT_OK


def _agent_files(agent: str | None) -> list[Path]:
    """The files a trained agent is loaded from: an output may not replace them."""
    if agent is None:
        return []
    folder = Path(agent)
    if folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        return []
    names = ("state.json", "config.json", "run.json", "training.json")
    return [p for p in folder.iterdir() if p.name in names or p.suffix == ".safetensors"]


def _console() -> Any:
    """A rich console for stdout; when it is not a terminal, wide enough that no table is cut."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=PIPE_WIDTH)


def _print_summary(rows: list[ResultRow], label: str) -> None:
    from rich.table import Table

    from hrrl.evaluation import summarize

    table = Table(title=f"{label}: per-category summary")
    for column in (
        "category",
        "problems",
        "feasible",
        "solved",
        "success",
        "optimal/steps",
        "mean steps",
    ):
        table.add_column(column, justify="left" if column == "category" else "right")
    for s in summarize(rows):
        table.add_row(
            s.category,
            str(s.problems),
            str(s.feasible),
            str(s.solved),
            "—" if s.feasible == 0 else f"{100 * s.success_rate:.1f} %",
            "—" if s.solved == 0 else f"{s.mean_efficiency:.4f}",
            "—" if s.solved == 0 else f"{s.mean_steps:.1f}",
        )
    _console().print(table)


# ---- train / results / demo / reproduce / experiment ----------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from hrrl.agents.hrrl import get_config, train
    from hrrl.agents.hrrl.trainer import stored_run
    from hrrl.core.lock import is_locked, run_lock

    if args.resume is not None:
        out = Path(args.resume)
        if args.out is not None and Path(args.out) != out:
            raise InputError("--resume RUN_DIR continues that run; drop --out or make them equal")
        if args.force:
            raise InputError("--force starts a new run; it cannot be combined with --resume")
        if not out.is_dir():
            raise InputError(f"nothing to resume: {out} is not a run directory")
        stored = stored_run(out)
        if stored is None:
            raise InputError(f"nothing to resume in {out} (no run.json or state.json)")
        config, seed = stored
        if args.config is not None and get_config(args.config) != config:
            raise InputError(
                f"--config {args.config} differs from the config {out} was trained with; "
                "a resumed run keeps its own (drop --config)"
            )
        if args.seed is not None and args.seed != seed:
            raise InputError(
                f"--seed {args.seed} differs from the seed {out} was trained with ({seed}); "
                "a resumed run keeps its own (drop --seed)"
            )
        check_output_dir(out, what="--resume")
        run_dir = train(config, out, seed=seed, resume=True)
    else:
        if args.out is None:
            raise InputError("--out RUN_DIR is required")
        out = Path(args.out)
        check_output_dir(out)
        config = get_config(args.config or "default")
        if is_locked(out):  # another train is writing there: say which process (exit 2)
            with run_lock(out):
                pass
        if _holds_run(out) and not args.force:
            raise InputError(
                f"{out} already holds a run; continue it with --resume {out}, "
                "or replace it with --force"
            )
        run_dir = train(config, out, seed=0 if args.seed is None else args.seed)
    print(f"trained agent in {run_dir}")
    return EXIT_OK


def _holds_run(folder: Path) -> bool:
    from hrrl.agents.hrrl.trainer import RUN_FILES

    return folder.is_dir() and any((folder / name).exists() for name in (*RUN_FILES, "tb"))


def cmd_results(args: argparse.Namespace) -> int:
    from hrrl.experiments.hrrl_results import write_results

    check_output(args.out)
    path = write_results(Path(args.out), quick=args.quick, seed=args.seed)
    print(f"wrote {path}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from hrrl.demo import run_demo

    run_demo(seed=args.seed)
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace) -> int:
    from hrrl.experiments.reproduce import reproduce

    check_output_dir(args.out)
    report = reproduce(
        out=Path(args.out),
        quick=args.quick,
        seeds=args.seeds,
        ray_address=args.ray,
        workers=args.workers,
    )
    print(f"wrote {report}")
    return EXIT_OK


def cmd_experiment(args: argparse.Namespace) -> int:
    from hrrl.experiments import get_experiment, list_experiments
    from hrrl.experiments.base import run_experiment

    if args.list:
        for name, experiment in list_experiments().items():
            print(f"{name:<22} {experiment.summary}")
        return EXIT_OK
    if args.index is not None:
        from hrrl.experiments.index import write_index

        check_output_dir(args.index, what="--index")
        print(f"wrote {write_index(args.index)}")
        return EXIT_OK
    if args.name is None:
        raise InputError("name an experiment (hrrl experiment --list shows them)")
    experiment = get_experiment(args.name)
    if args.out is None and args.quick:
        raise InputError(
            f"--quick needs --out DIR ({experiment.default_out} holds the committed report)"
        )
    out = Path(args.out) if args.out is not None else experiment.default_out
    check_output_dir(out)
    results = run_experiment(
        experiment,
        out,
        quick=args.quick,
        seeds=args.seeds,
        workers=args.workers,
        protocol=args.protocol,
        ray_address=args.ray,
    )
    print(f"wrote {out / experiment.report_name} ({results['wall_time_s']} s)")
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    from hrrl.suites.generator import SuiteSpec, generate
    from hrrl.suites.jsonl import write_problems

    check_output(args.out)
    if args.suite is not None:
        from hrrl.suites.builtin import builtin_suite

        problems = builtin_suite(args.suite, args.seed)
    else:
        if args.count is None or args.targets is None:
            raise InputError("give --suite NAME, or --count N and --targets LO:HI")
        density = float(args.density) if args.density is not None else None
        spec = SuiteSpec(
            category=args.category,
            count=_int_arg(args.count, "--count") or 0,
            targets=_range_arg(args.targets, "--targets"),
            forbidden_count=_range_arg(args.forbidden, "--forbidden"),
            density=density,
            actions=tuple(_int_list(args.actions, "--actions")),
            budget=args.budget,
            feasibility=args.feasibility,
        )
        problems = generate(spec, args.seed)
    write_problems(args.out, problems)
    print(f"wrote {len(problems)} problems to {args.out}")
    return EXIT_OK


# ---- parser --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hrrl",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, required=True)

    solve = sub.add_parser("solve", help="solve one problem (exact solver, or a trained agent)")
    solve.add_argument("--target", help="the position to reach (required)")
    solve.add_argument("--forbidden", default="", help="comma-separated, e.g. 23,45,67")
    solve.add_argument("--actions", help="comma-separated, default 1,3,5")
    solve.add_argument("--start", default=None, help="starting position (default 0)")
    solve.add_argument(
        "--max-steps", dest="max_steps", help="step budget (default 2·ceil(gap/max|a|) + 10)"
    )
    solve.add_argument("--agent", help="run directory written by hrrl train")
    solve.add_argument(
        "--mask", action="store_true", help="agent: mask moves onto forbidden states"
    )
    solve.add_argument("--json", action="store_true", help="print the SPEC result row")
    solve.add_argument("--plot", help="write a PNG of the field, path and subgoals")
    solve.set_defaults(func=cmd_solve)

    ev = sub.add_parser("evaluate", help="evaluate a method or agent on a problem file")
    ev.add_argument("--problems", help="JSONL problem file")
    ev.add_argument("--suite", help="built-in suite instead of a file: paper, validation, quick")
    ev.add_argument("--agent", help="run directory written by hrrl train (instead of --method)")
    ev.add_argument("--method", help=f"one of {', '.join(METHODS)} (default optimal)")
    ev.add_argument("--mask", action="store_true", help="agent: mask moves onto forbidden states")
    ev.add_argument("--seed", type=int, default=0, help="seed of stochastic methods (default 0)")
    ev.add_argument("--out", required=True, help="JSONL file of SPEC result rows to write")
    ev.set_defaults(func=cmd_evaluate)

    tr = sub.add_parser("train", help="train the HRRL agent")
    tr.add_argument(
        "--config",
        help="a preset (default, paper, v2, v2-budgeted, v2-budgeted-expectile) or a JSON file "
        "(default: default; --resume: the run's)",
    )
    tr.add_argument("--out", help="run directory for checkpoints, logs and the final agent")
    tr.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run with its own config and seed",
    )
    tr.add_argument(
        "--force", action="store_true", help="replace the run already in --out (it is deleted)"
    )
    tr.add_argument("--seed", type=int, help="training seed (default 0; --resume: the run's)")
    tr.set_defaults(func=cmd_train)

    res = sub.add_parser("results", help="train, evaluate and write docs/RESULTS.md")
    res.add_argument(
        "--out", default="docs/RESULTS.md", help="report file (default docs/RESULTS.md)"
    )
    res.add_argument("--quick", action="store_true", help="shorter training, smaller suites")
    res.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    res.set_defaults(func=cmd_results)

    demo = sub.add_parser("demo", help="the README's main command")
    demo.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    demo.set_defaults(func=cmd_demo)

    rep = sub.add_parser("reproduce", help="reproduce the paper's tables")
    rep.add_argument("--quick", action="store_true", help="2 seeds, shorter training (minutes)")
    rep.add_argument(
        "--seeds", type=_positive_int, help="seeds per method (default 5; 2 with --quick)"
    )
    rep.add_argument("--out", default="reproduce", help="report directory (default ./reproduce)")
    rep.add_argument("--ray", metavar="ADDRESS", help="run jobs as Ray tasks ('local' starts one)")
    rep.add_argument(
        "--workers", type=_positive_int, default=2, help="local worker processes (default 2)"
    )
    rep.set_defaults(func=cmd_reproduce)

    exp = sub.add_parser("experiment", help="run a classic hierarchical / meta-RL experiment")
    exp.add_argument("name", nargs="?", help="experiment name (see --list)")
    exp.add_argument("--list", action="store_true", help="list the experiments, one line each")
    exp.add_argument(
        "--index", metavar="DIR", help="write DIR/INDEX.md from the reports under DIR, then stop"
    )
    exp.add_argument("--quick", action="store_true", help="short protocol (≤ 5 minutes on 2 cores)")
    exp.add_argument("--seeds", type=_positive_int, help="seeds (default: the experiment's own)")
    exp.add_argument(
        "--out",
        help="directory for REPORT.md, results.json and plots (default: where the experiment's "
        "committed report lives, docs/experiments/NAME unless it declares another)",
    )
    exp.add_argument(
        "--workers", type=_positive_int, default=2, help="worker processes (default 2)"
    )
    exp.add_argument(
        "--protocol", help="a named protocol, for experiments that offer several (e.g. himeta-ml10)"
    )
    exp.add_argument("--ray", metavar="ADDRESS", help="run jobs as Ray tasks ('local' starts one)")
    exp.set_defaults(func=cmd_experiment)

    problems = sub.add_parser("problems", help="problem suites")
    psub = problems.add_subparsers(dest="problems_command", parser_class=_Parser, required=True)
    gen = psub.add_parser("generate", help="write a suite as JSONL")
    gen.add_argument("--suite", help="built-in suite: paper, validation, quick")
    gen.add_argument("--count", help="number of problems")
    gen.add_argument("--targets", help="target range LO:HI")
    gen.add_argument("--forbidden", default="2:5", help="count range LO:HI (default 2:5)")
    gen.add_argument("--density", help="fraction of states forbidden (instead of --forbidden)")
    gen.add_argument("--actions", default="1,3,5", help="comma-separated moves (default 1,3,5)")
    gen.add_argument(
        "--budget", default="default", help="default, optimal, optimal+K, optimal-K, xF"
    )
    gen.add_argument(
        "--feasibility",
        default="require",
        choices=("require", "label"),
        help="require: redraw infeasible problems; label: keep them, labelled",
    )
    gen.add_argument("--category", default="generated", help="category name in every row")
    gen.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    gen.add_argument("--out", required=True, help="JSONL file to write")
    gen.set_defaults(func=cmd_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already reported in one line
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"hrrl: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("hrrl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # a file system refusal we did not foresee: still one line
        where = f": {exc.filename}" if exc.filename else ""
        print(f"hrrl: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())

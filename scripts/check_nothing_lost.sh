#!/usr/bin/env bash
# Reproduce the ways of losing work listed in issue #13 ("Nothing lost") on a scratch folder and
# print PASS or FAIL for each. Exit status: 0 when every item passes, 1 otherwise.
#
#   scripts/check_nothing_lost.sh            # uses .venv/bin/hrrl when present, else hrrl on PATH
#   HRRL="python -m hrrl" scripts/check_nothing_lost.sh
#
# Kills at the checkpoint window are real SIGKILLs, sent by hrrl itself at an exact stage of
# saving a checkpoint (HRRL_TEST_KILL_AT, a test hook in hrrl.core.checkpoint), not timed sleeps.
# Takes two to four minutes on 2 cores (more when the machine is busy).
set -u

here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${HRRL:-}" ]; then
    if [ -x "$here/.venv/bin/hrrl" ]; then HRRL="$here/.venv/bin/hrrl"; else HRRL=hrrl; fi
fi
if [ -x "$here/.venv/bin/python" ]; then PYTHON="$here/.venv/bin/python"; else PYTHON=python3; fi
work="$(mktemp -d "${TMPDIR:-/tmp}/nothing-lost.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

failures=0
failed_why=""
pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s: %s\n' "$1" "$2"; failures=$((failures + 1)); }
# run CMD...: exit code in $rc, stdout in out.txt, stderr in err.txt
run() { "$@" >out.txt 2>err.txt; rc=$?; }
errline() { tail -c 240 err.txt | tr '\n' ' '; } # the end of stderr, on one line
# one_line: exit 2 and exactly one "hrrl: error:" line on stderr, no traceback
one_line() {
    [ "$rc" -eq 2 ] && [ "$(wc -l <err.txt)" -eq 1 ] && grep -q '^hrrl: error: ' err.txt \
        && ! grep -q Traceback err.txt
}
check() { # check NAME: PASS when every step since the last check held
    if [ -z "$failed_why" ]; then pass "$1"; else fail "$1" "$failed_why"; fi
    failed_why=""
}
expect() { # expect WHY CONDITION...: remember WHY when the condition fails
    local why="$1"; shift
    if ! "$@"; then [ -n "$failed_why" ] || failed_why="$why"; fi
}

cat >problems.jsonl <<'EOF'
{"id": "a", "target": 20, "forbidden": [3, 7]}
{"id": "b", "target": 57, "forbidden": [10, 11]}
{"id": "c", "target": 123, "forbidden": [23, 45, 67, 89]}
EOF
cat >tiny.json <<'EOF'
{"episodes": 180, "num_envs": 16, "hidden": 32, "learning_starts": 64, "batch_size": 32,
 "checkpoint_every": 60, "eval_every": 0, "stage_fraction": 0.05}
EOF
sed 's/"episodes": 180/"episodes": 50000/' tiny.json >long.json
sum_of() { sha256sum "$1" | cut -d' ' -f1; }
problems_sum="$(sum_of problems.jsonl)"

# 1. --out equal to --problems (directly, through a symlink, through a hard link)
ln -s problems.jsonl link.jsonl
ln problems.jsonl hard.jsonl
for out in problems.jsonl link.jsonl hard.jsonl; do
    run $HRRL evaluate --problems problems.jsonl --out "$out"
    expect "--out $out: exit $rc, stderr: $(errline)" one_line
    expect "--out $out overwrote the problems" [ "$(sum_of problems.jsonl)" = "$problems_sum" ]
done
expect "the symlink was replaced" [ -L link.jsonl ]
check "1  evaluate --out onto its own --problems is refused, problems intact"

# 2. symlink written through; FIFO and device refused, never replaced
mkdir real && echo old >real/results.jsonl && ln -s real/results.jsonl results-link.jsonl
run $HRRL evaluate --problems problems.jsonl --out results-link.jsonl
expect "symlink output: exit $rc" [ "$rc" -eq 0 ]
expect "the symlink was replaced by a file" [ -L results-link.jsonl ]
expect "the link's target was not written" [ "$(wc -l <real/results.jsonl)" -eq 3 ]
mkfifo fifo
if ! mknod device c 1 3 2>/dev/null; then ln -s /dev/null device; fi
for out in fifo device; do
    run $HRRL evaluate --problems problems.jsonl --out "$out"
    expect "--out $out: exit $rc, stderr: $(errline)" one_line
done
expect "the FIFO was replaced" [ -p fifo ]
expect "the device was replaced" [ -c device ]
expect "/dev/null is no longer a device" [ -c /dev/null ]
check "2  --out through a symlink writes its target; a FIFO or device is refused, untouched"

# 3 and 4. SIGKILL inside the checkpoint window, then --resume without --seed or --config
run $HRRL train --config tiny.json --seed 3 --out reference
expect "reference run: exit $rc, stderr: $(errline)" [ "$rc" -eq 0 ]
for stage in begin tensors-staged state-written; do
    ( # a subshell that reports the kill to /dev/null, not to the terminal
        HRRL_TEST_KILL_AT="$stage@2" $HRRL train --config tiny.json --seed 3 --out "cut-$stage" \
            >/dev/null 2>&1
        exit $?
    ) 2>/dev/null
    killed=$?
    expect "train was not killed at $stage (exit $killed)" [ "$killed" -eq 137 ]
    run $HRRL train --resume "cut-$stage"
    expect "resume after a kill at $stage: exit $rc, $(errline)" [ "$rc" -eq 0 ]
    expect "kill at $stage: weights differ from the uninterrupted run" \
        cmp -s "cut-$stage/model.safetensors" reference/model.safetensors
    expect "kill at $stage: metrics.jsonl differs (duplicated or lost steps)" \
        cmp -s "cut-$stage/metrics.jsonl" reference/metrics.jsonl
done
check "3  a kill at each stage of saving a checkpoint resumes bit-exactly"
seed_of() { "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["seed"])' "$1"; }
expect "the resumed run's seed is $(seed_of cut-begin/state.json), not 3" \
    [ "$(seed_of cut-begin/state.json)" = 3 ]
run $HRRL train --resume reference --seed 0
expect "--resume with another --seed: exit $rc" one_line
run $HRRL train --resume reference --config paper
expect "--resume with another --config: exit $rc" one_line
check "4  --resume takes seed and config from the run; others are refused"

# 5. invalid or unwritable --out: one line, exit 2, before the work
touch a-file
mkdir a-dir
run $HRRL evaluate --suite validation --method optimal --out a-dir
expect "--out DIRECTORY: exit $rc" one_line
run $HRRL evaluate --suite validation --method optimal --out a-file/results.jsonl
expect "--out under a file: exit $rc" one_line
run $HRRL train --out a-file
expect "train --out FILE: exit $rc" one_line
run $HRRL experiment maxq-taxi --quick --out a-file
expect "experiment --out FILE: exit $rc" one_line
if [ "$(id -u)" -ne 0 ]; then
    mkdir ro && chmod 555 ro
    start=$(date +%s)
    run $HRRL evaluate --suite validation --method optimal --out ro/results.jsonl
    expect "--out in a read-only folder: exit $rc" one_line
    expect "the read-only check came after the work" [ $(($(date +%s) - start)) -lt 20 ]
    chmod 755 ro
fi
check "5  an invalid or unwritable --out fails first, in one line"

# 6. an existing run is not replaced; two trains into one directory
before="$(sum_of reference/model.safetensors)"
run $HRRL train --config tiny.json --out reference
expect "train --out EXISTING_RUN: exit $rc" one_line
expect "the existing run was modified" [ "$(sum_of reference/model.safetensors)" = "$before" ]
$HRRL train --config long.json --out busy >/dev/null 2>&1 &
first=$!
for _ in $(seq 600); do [ -s busy/.lock ] && break; sleep 0.1; done
run $HRRL train --config tiny.json --out busy
expect "second train into a busy run dir: exit $rc, $(errline)" one_line
expect "the second train did not name the lock" grep -q "in use" err.txt
kill "$first" 2>/dev/null
wait "$first" 2>/dev/null
check "6  train refuses an existing run (without --force) and a run dir in use"

# 7. corrupt checkpoints: truncated, NaN weights
mkdir truncated && cp reference/*.json reference/model.safetensors truncated/
size=$(wc -c <truncated/model.safetensors)
head -c $((size / 2)) reference/model.safetensors >truncated/model.safetensors
mkdir nan && cp reference/*.json reference/model.safetensors nan/
"$PYTHON" - nan <<'EOF'
import sys
import torch
from hrrl.core.checkpoint import load_checkpoint, save_checkpoint
groups, state = load_checkpoint(sys.argv[1])
name = next(iter(groups["q"]))
groups["q"][name] = torch.full_like(groups["q"][name], float("nan"))
save_checkpoint(sys.argv[1], groups, state)
EOF
for bad in truncated nan; do
    run $HRRL train --resume "$bad"
    expect "train --resume on a $bad checkpoint: exit $rc, $(errline)" one_line
    run $HRRL evaluate --problems problems.jsonl --agent "$bad" --out "$bad.jsonl"
    expect "evaluate --agent on a $bad checkpoint: exit $rc, $(errline)" one_line
done
check "7  truncated or NaN checkpoints: exit 2 in one line for --resume and --agent"

# 8. one invalid UTF-8 byte: one error row
{
    head -n 1 problems.jsonl
    printf '{"id": "bad\xff", "target": 9, "forbidden": []}\n'
    tail -n 2 problems.jsonl
} >utf8.jsonl
run $HRRL evaluate --problems utf8.jsonl --out utf8-results.jsonl
expect "evaluate with one bad byte: exit $rc, $(errline)" [ "$rc" -eq 0 ]
statuses="$("$PYTHON" -c 'import json,sys; print(",".join(json.loads(l)["status"] for l in open(sys.argv[1])))' utf8-results.jsonl 2>/dev/null)"
expect "statuses were '$statuses'" [ "$statuses" = "solved,error,solved,solved" ]
check "8  an invalid UTF-8 byte makes one error row, the other lines run"

# 9. an experiment killed part-way resumes from its finished jobs, to the same numbers
run $HRRL experiment hdqn-chain --quick --workers 1 --out exp-fresh
expect "uninterrupted experiment: exit $rc, $(errline)" [ "$rc" -eq 0 ]
$HRRL experiment hdqn-chain --quick --workers 1 --out exp-killed >/dev/null 2>&1 &
pid=$!
for _ in $(seq 600); do # wait (at most 60 s) for the first finished job in the cache, then kill
    [ -n "$(find exp-killed/_work/jobs -name '*.json' 2>/dev/null | head -n 1)" ] && break
    sleep 0.1
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
cached=$(find exp-killed/_work/jobs -name '*.json' 2>/dev/null | wc -l)
expect "no finished job was cached before the kill" [ "$cached" -ge 1 ]
run $HRRL experiment hdqn-chain --quick --workers 1 --out exp-killed
expect "resumed experiment: exit $rc, $(errline)" [ "$rc" -eq 0 ]
reused="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("jobs_from_cache", 0))' exp-killed/results.json 2>/dev/null)"
expect "the resumed run reused no finished job (jobs_from_cache: $reused)" [ "${reused:-0}" -ge 1 ]
same="$("$PYTHON" -c '
import json, sys
skip = {"wall_time_s", "finished_utc", "load_average_end", "command", "jobs_from_cache"}
a, b = (json.load(open(p)) for p in sys.argv[1:])
print(all(a.get(k) == b.get(k) for k in (set(a) | set(b)) - skip))
' exp-fresh/results.json exp-killed/results.json)"
expect "the resumed run's numbers differ from an uninterrupted run's" [ "$same" = "True" ]
check "9  an experiment killed part-way resumes from its finished jobs, same numbers"

echo
if [ "$failures" -eq 0 ]; then echo "nothing lost: every item passed"; exit 0; fi
echo "$failures item(s) FAILED"
exit 1

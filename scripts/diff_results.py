"""Compare the numbers of two results.json files: every numeric leaf present in both, and the
leaves present in only one. Run metadata (wall time, load, dates, job counts) is skipped.

    .venv/bin/python scripts/diff_results.py OLD/results.json NEW/results.json
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

SKIP = {"wall_time_s", "finished_utc", "load_average_end", "cpu_count", "jobs", "jobs_from_cache"}


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if prefix == "" and key in SKIP:
                continue
            out.update(leaves(item, f"{prefix}/{key}"))
        return out
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            out.update(leaves(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def main(old_path: str, new_path: str) -> int:
    old = leaves(json.loads(Path(old_path).read_text(encoding="utf-8")))
    new = leaves(json.loads(Path(new_path).read_text(encoding="utf-8")))
    shared = sorted(set(old) & set(new))
    numeric = [k for k in shared if type(old[k]) in (int, float)]
    differ = [k for k in shared if not same(old[k], new[k])]
    print(f"{len(shared)} leaves in both ({len(numeric)} numeric): {len(differ)} differ")
    for key in differ[:40]:
        print(f"  {key}: {old[key]!r} -> {new[key]!r}")
    only_old, only_new = sorted(set(old) - set(new)), sorted(set(new) - set(old))
    print(f"only in old: {len(only_old)}; only in new: {len(only_new)}")
    for key in only_old[:10]:
        print(f"  old only {key}")
    for key in only_new[:10]:
        print(f"  new only {key}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

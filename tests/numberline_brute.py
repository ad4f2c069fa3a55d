"""An independent brute-force oracle for small number-line problems (tests only)."""

from __future__ import annotations

from collections import deque

from hrrl.problem import Problem


def brute_force_steps(problem: Problem) -> int | None:
    """Fewest moves from start to target within the budget, by plain BFS over positions."""
    seen = {problem.start: 0}
    queue = deque([problem.start])
    while queue:
        x = queue.popleft()
        d = seen[x]
        if x == problem.target:
            return d
        if d == problem.max_steps:
            continue
        for a in problem.actions:
            y = x + a
            if y in problem.forbidden or y in seen:
                continue
            seen[y] = d + 1
            queue.append(y)
    return None

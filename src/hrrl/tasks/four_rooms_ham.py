"""Machines for Four Rooms: a Parr & Russell-style "go to a door" hierarchy, and a flat one.

``door_ham``: the root machine loops on one choice point: call ``door-h`` for a hallway h (allowed
only inside the two rooms that h joins, h excluded) or ``step`` (one primitive action, any
direction). ``door-h`` is a *partial* policy: at each step it may only choose a move that goes
strictly closer to h (shortest path inside those two rooms and h), which leaves one or two moves
to choose from; it stops on reaching h or on slipping out of its rooms. The learner decides which
door and, inside the door machine, which of the approaching moves.

``flat_ham``: one choice among the four actions, repeated: HAMQ on it is Q-learning.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from hrrl.core.machines import HAM, Act, Call, Choose, Machine, Stop
from hrrl.envs.four_rooms import ACTION_NAMES, HALLWAYS, MOVES, ROOMS, FourRoomsEnv, room_hallways


def _door_region(env: FourRoomsEnv, hallway: tuple[int, int]) -> set[int]:
    cells = [hallway]
    for room, members in ROOMS.items():
        if hallway in room_hallways(room):
            cells += members
    return {env.index[c] for c in cells}


def _distances(env: FourRoomsEnv, region: set[int], goal: int) -> dict[int, int]:
    dist = {goal: 0}
    queue = deque([goal])
    while queue:
        s = queue.popleft()
        r, c = env.cells[s]
        for dr, dc in MOVES:
            nxt = env.index.get((r + dr, c + dc))
            if nxt is not None and nxt in region and nxt not in dist:
                dist[nxt] = dist[s] + 1
                queue.append(nxt)
    return dist


def _constant(action: int) -> Callable[[int], int]:
    """The action rule that takes ``action`` in every state."""

    def rule(state: int) -> int:
        return action

    return rule


def _primitive_machine(name: str = "step") -> Machine:
    nodes: dict = {"choose": Choose(tuple(ACTION_NAMES)), "stop": Stop()}
    for a, label in enumerate(ACTION_NAMES):
        nodes[label] = Act(action=_constant(a), next="stop")
    return Machine(name, "choose", nodes)


def _door_machine(env: FourRoomsEnv, hallway: tuple[int, int]) -> Machine:
    region = _door_region(env, hallway)
    goal = env.index[hallway]
    dist = _distances(env, region, goal)
    far = 10 * env.n_states

    def closer(s: int) -> list[bool]:
        here = dist.get(s, far)
        r, c = env.cells[s]
        targets = [env.index.get((r + dr, c + dc), s) for dr, dc in MOVES]
        return [t in region and dist.get(t, far) < here for t in targets]

    def after(s: int) -> str:
        return "stop" if s == goal or s not in region else "choose"

    nodes: dict = {"choose": Choose(tuple(ACTION_NAMES), available=closer), "stop": Stop()}
    for a, label in enumerate(ACTION_NAMES):
        nodes[label] = Act(action=_constant(a), next=after)
    return Machine(f"door{hallway}", "choose", nodes)


def door_ham(env: FourRoomsEnv) -> HAM:
    """Root: choose a door machine (inside its two rooms) or one primitive step; repeat."""
    doors = [_door_machine(env, h) for h in HALLWAYS]
    regions = [_door_region(env, h) - {env.index[h]} for h in HALLWAYS]
    choices = (*tuple(f"call {d.name}" for d in doors), "call step")

    def allowed(s: int) -> list[bool]:
        return [s in region for region in regions] + [True]

    nodes: dict = {"choose": Choose(choices, available=allowed)}
    for d in doors:
        nodes[f"call {d.name}"] = Call(d.name, next="choose")
    nodes["call step"] = Call("step", next="choose")
    root = Machine("root", "choose", nodes)
    return HAM([root, *doors, _primitive_machine()], "root", env.n_states)


def flat_ham(env: FourRoomsEnv) -> HAM:
    """Root: choose one of the four actions; repeat (HAMQ on it is flat Q-learning)."""
    nodes: dict = {"choose": Choose(tuple(ACTION_NAMES))}
    for a, label in enumerate(ACTION_NAMES):
        nodes[label] = Act(action=_constant(a), next="choose")
    return HAM([Machine("root", "choose", nodes)], "root", env.n_states)

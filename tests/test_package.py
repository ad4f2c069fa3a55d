"""``import hrrl`` is enough for ``gymnasium.make("hrrl/...")``, in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys


def test_import_hrrl_registers_the_environment_ids() -> None:
    code = (
        "import gymnasium as gym, hrrl\n"
        "env = gym.make('hrrl/NumberLine-v0')\n"
        "print(sorted(k for k in gym.registry if k.startswith('hrrl/')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "'hrrl/NumberLine-v0'" in out.stdout and "'hrrl/FourRooms-v0'" in out.stdout

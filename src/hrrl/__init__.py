"""hrrl: hierarchical reinforcement learning, with an exact oracle for every number-line result.

``import hrrl`` registers the environments with Gymnasium (``gymnasium.make("hrrl/NumberLine-v0")``
works after it), as users of Gymnasium plugins expect.
"""

__version__ = "0.1.0"

from hrrl import envs as _envs

del _envs

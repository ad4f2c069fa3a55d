"""hrrl: hierarchical reinforcement learning, with an exact oracle for every number-line result."""

__version__ = "0.1.0"

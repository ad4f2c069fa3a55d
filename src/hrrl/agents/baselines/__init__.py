"""Number-line baselines of the paper's §4.3, each a real learner exposed as a NumberLinePolicy.

``option_q``: tabular Q-learning and the options framework on the absolute state;
``raw_dqn``: DQN on raw state features; ``sb3``: stable-baselines3's DQN as an external reference.
"""

"""The HRRL agent for the number line: relational features, goal decomposition, phase heads.

Public API: :class:`HRRLConfig`, :func:`get_config`, :func:`train`, :func:`load_policy`.
"""

from hrrl.agents.hrrl.config import HRRLConfig, get_config
from hrrl.agents.hrrl.policy import HRRLPolicy, load_policy
from hrrl.agents.hrrl.trainer import train

__all__ = ["HRRLConfig", "HRRLPolicy", "get_config", "load_policy", "train"]

"""Domain knowledge per task: exact models and oracles that judge learners."""

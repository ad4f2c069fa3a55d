"""Domain knowledge per task: exact models, oracles, scripted options, distance maps."""

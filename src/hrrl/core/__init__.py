"""Parts every learner shares: buffers, networks, schedules, seeding, logging, checkpoints."""

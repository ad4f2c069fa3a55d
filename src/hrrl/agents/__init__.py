"""Learners, one module (or small package) per method."""

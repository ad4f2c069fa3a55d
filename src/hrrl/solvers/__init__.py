"""Exact answers: number-line shortest paths and value iteration for tabular models."""

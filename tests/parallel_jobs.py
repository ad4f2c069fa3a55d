"""A job function in a module that imports nothing heavy, so spawned workers start fast."""


def square(x: int) -> int:
    return x * x

"""Problem suites: the seeded generator, built-in suites and the JSONL format of the SPEC."""

from hrrl.suites.generator import SuiteSpec, generate
from hrrl.suites.jsonl import ParsedLine, read_problems, write_problems

__all__ = ["ParsedLine", "SuiteSpec", "generate", "read_problems", "write_problems"]

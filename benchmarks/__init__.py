"""Scale and speed runs against the portal simulator, each against a naive baseline in the same run.

Results are ratios (ours against the baseline, N against a multiple of N), never absolute
timings used as pass/fail: the machine changes, the ratio mostly does not. See README.md.
"""

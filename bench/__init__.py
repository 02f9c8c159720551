"""Benchmarks of the site and the service (``make bench``), kept outside the test suite.

Every comparison runs both sides in one invocation, interleaved, and reports the median ratio:
on a shared machine only side-by-side ratios mean anything.
"""

"""Benchmarking any model on the eight tasks: backends, prompts, parsers, scorers, baselines, runs, report."""

"""Evaluation harness: held-out cases (`cases/`), metrics, the runner and the Markdown report."""

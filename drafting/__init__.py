"""Drafting service for Chinese trade-union work summaries (工会工作总结).

Stages, one module each, in data-flow order: request (parse) → plan → retrieval → write →
figures (check) → repair → assemble; `pipeline` runs them, `cli`, `api` and `app.py` are thin
faces over it.
"""

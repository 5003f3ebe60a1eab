"""The HTTP API (FastAPI): a face over `drafting.service`, with its own admission, limits and
error shapes."""

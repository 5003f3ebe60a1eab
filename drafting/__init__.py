"""Drafting service for Chinese trade-union work summaries (工会工作总结).

A draft follows the data flow through these packages, in order (docs/architecture.md):

    flow.request, flow.screen   1 intake: parse the bullets, leave out instructions and garbage
    flow.plan                   2 plan: an outline of sections, each with its bullets
    retrieval                   3 retrieve: past sections (style phrases, planning votes)
    flow.write, flow.hygiene    4 write: each bullet realised by the model, cleaned
    checker, flow.check         5 check: figures, the facts they sit on, the work claimed
    flow.repair                 6 repair: re-ask, then restate the bullets
    flow.assemble               7 assemble: title, opening, sections, closing

`flow.pipeline` runs the stages; `service` is what the faces call — the page (`app.py`, with
`page`), the HTTP API (`api`) and the command line (`cli`). `model` holds the OpenAI-compatible
client and the embedded model server; `store` the history; `export` the .docx/.md files.
"""

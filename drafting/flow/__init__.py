"""The stages of a draft, in data-flow order: request → screen → plan → (retrieval) → write →
hygiene → check → repair → assemble; `pipeline` runs them, `events` is what they emit."""

"""Membership scores: token statistics -> one number per document, every score oriented higher = more likely a
member (design.md, "Scores").

- ``registry``: one entry per score (name, label, description, what it needs, function): what the CLI, pages,
  charts and reports list;
- ``formulas``: the score functions over TokenStats, each as its paper defines it;
- ``ngram_coverage``: the black-box n-gram coverage score (sampled continuations);
- ``table``: documents -> the score table (one row per document) and the per-token table;
- ``chunk_features``: chunk-level token features for the document-level meta-classifier.
"""

"""Scoring past one machine: a corpus scored on a Ray cluster, written as Parquet shards, resumable.

- ``corpus``: corpus files -> document rows (name, text, SHA-256, or the sentence saying why a file or line could
  not be read), with the readers of ``provenance.documents``, so names and error sentences match the single-process
  ``score``; no Ray.
- ``batch``: one batch of document rows -> score rows with ``scores.table.score_documents`` (a document that cannot
  be scored becomes a row with an ``error``); no Ray.
- ``output``: the output folder: ``manifest.json`` (model identity and settings; a run with other settings is
  refused) and ``part-*.parquet`` shards, each written atomically; the rows already written (document and text
  hash) that a resumed run skips; reading every row back; no Ray.
- ``ray_engine``: the Ray Data pipeline (read files, skip done rows, ``map_batches`` over an actor pool, one model
  per actor), the local cluster or joining one, and the run's summary line. Only this module imports Ray, and only
  when a run starts.
"""

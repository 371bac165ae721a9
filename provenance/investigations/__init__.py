"""Investigations: every question asked of a model, saved as it is answered, and the use cases that answer them.

Persistence (nothing here runs a model):
- ``store``: the SQLite store (WAL, one connection per thread): investigations, their documents and result rows in
  collections (``MAIN``, ``REFERENCE``, a ghost test's null draws), artifacts, statuses and Verdict values;
- ``records``: the values it keeps and gives back (``Investigation``, its ``Kind``: what the use case that ran it
  asks, JSON forms of rows, settings and tables);
- ``comparison``: two investigations side by side (facts, shared documents' scores);
- ``registries``: ghost-sentence registries kept in the same file, so identifiers outlive a browser session.

Use cases, each the one path the CLI and the dashboard pages share, each recording itself as it goes (rows as they
come, so a stopped or killed run resumes where it stopped) and returning a small result value:
- ``scoring.score_set``: score a set of documents (``score --investigation``, the Documents page);
- ``reference.compare_with_reference``: score a suspect set and a reference set, compare them, record per-document
  and set verdicts (``sets compare``, the Documents page with a reference set);
- ``labelled.evaluate_labelled_set``: score a labelled set and evaluate every score on it (``sets evaluate``, the
  Benchmark page);
- ``ghost_test.run_ghost_test``: test a model for ghost sentences with its null draws recorded (``ghost detect``,
  the Ghost sentences page);
- ``models.compare_models``: the same documents (and reference set) put to several models one after another, each
  through the use case above, read back as a documents x models grid (``score`` / ``sets compare`` with several
  ``--model``, the Documents page with extra models);
- ``scaled_runs.import_scored_folder``: open the output folder of a run on a Ray cluster as an investigation, with
  verdicts against a reference folder (``investigations import``, ``score``/``sets compare --engine ray``, the
  History page).
Import them from their modules (this package imports nothing, so the store can be opened without loading a model's
dependencies).
"""

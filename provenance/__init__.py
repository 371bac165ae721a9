"""provenance: was this text used to train this language model?

The backend of the dashboard. Data flows one way: documents (ingest) -> token statistics (scoring) -> scores
(attacks, pipeline) -> calibrated verdicts (calibration, ghost) -> figures and reports (charts, report).
This package never imports Streamlit.
"""

__version__ = "0.1.0"

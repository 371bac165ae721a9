"""Streamlit helpers shared by the pages (model picker, cached resources). Only the dashboard imports this."""

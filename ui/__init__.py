"""Streamlit-only helpers shared by app.py and pages/: cached resources, the sidebar."""

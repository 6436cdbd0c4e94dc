"""Streamlit dashboards over the published warehouse (see dashboards/streamlit_app.py)."""

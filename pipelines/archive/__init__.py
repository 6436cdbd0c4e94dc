"""The archive (档案资料): evidence requirements per clause, evidence items with versions and review,
archive readiness and the inspection package (迎检资料包). Plain functions, no Dagster or Streamlit."""

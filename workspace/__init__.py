"""The data layer: the client's parquet, the annotations in SQLite, the deliverable."""

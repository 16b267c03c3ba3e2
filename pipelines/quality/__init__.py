"""Data-quality checks on every layer: what each check asserts (catalogue), how it is evaluated (SQL in DuckDB,
or a great-expectations expectation on a small frame), and where the results land (marts.data_quality_results)."""

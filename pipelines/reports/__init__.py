"""The static report site: SQL aggregates from the published warehouse, Plotly charts and sortable tables in
jinja2 pages (templates in reports/), written to the reports folder with plotly.js beside them so it opens offline."""

"""FastAPI application: REST API (+ OpenAPI) over the archive, search and pipelines."""

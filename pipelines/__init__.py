"""Ingestion: detect → store original → parse → derive → index, run by workers."""

"""The system of record: settings, database models, object store, services."""

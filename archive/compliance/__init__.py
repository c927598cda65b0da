"""Compliance with the record-keeping rules (docs/rules.md): rules as data, findings per case."""

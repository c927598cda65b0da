"""Compliance with the record-keeping rules (RULES.md): rules as data, findings per case."""

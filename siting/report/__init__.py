"""Outputs for people: maps (and, later, tables and reports)."""

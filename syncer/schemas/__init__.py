"""Strict pydantic schemas of the files ccsync reads and writes: imported only to validate bytes (see syncer/trust.py) and to publish JSON Schemas."""

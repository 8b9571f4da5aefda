"""Deduplication steps (global: they see every shard before deciding)."""

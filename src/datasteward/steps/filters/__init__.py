"""Simple record filters: length and regular expressions."""

"""A run of a recipe: its layout on disk, finding runs, and reading a run's records."""

"""What dataset users call: load a release, verify it, fetch a links-only release's pages."""

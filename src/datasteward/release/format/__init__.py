"""The release on disk: its manifest, status, versions and the project's registry of releases."""

"""The `datasteward` command line: thin over the library."""

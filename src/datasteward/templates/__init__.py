"""Project templates written by ``datasteward init``."""

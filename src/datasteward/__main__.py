"""``python -m datasteward`` is the ``datasteward`` command."""

from datasteward.cli.main import main

main()

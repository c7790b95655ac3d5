"""``python -m rnnkit`` runs the command line (as the ``rnnkit`` console script does)."""

from rnnkit.cli import main

main()

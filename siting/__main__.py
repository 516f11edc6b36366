"""``python -m siting``."""

from siting.cli import main

main()

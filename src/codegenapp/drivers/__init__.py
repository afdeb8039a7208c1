"""Everything that talks to the outside world, one family per folder, each behind a Protocol."""

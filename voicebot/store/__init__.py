"""Call records: calls and their turns, in SQLite by default."""

"""`midway demo`: a week of a freight marketplace, end to end, on the embedded default."""

"""The optimization core: plain arrays in, solutions out. Nothing geographic here."""

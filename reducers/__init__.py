"""User-written reducers and hooks, and the Sym-compatible names they import."""

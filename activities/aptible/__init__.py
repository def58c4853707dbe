"""The Aptible auth API, as jitflow's activities call it."""

"""The local stack behind `make run` / `jitflow dev`: Temporal, the Aptible emulator, moto, the worker."""

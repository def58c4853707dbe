"""``python -m jitflow``: the same CLI as the ``jitflow`` console script."""

from jitflow.cli.main import run

if __name__ == "__main__":
    run()

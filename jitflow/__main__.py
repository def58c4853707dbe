"""``python -m jitflow``: the same CLI as the ``jitflow`` console script."""

from jitflow.cli.main import main

if __name__ == "__main__":
    main()

"""Run the command line as `python -m bposim`."""

from bposim.cli import main

if __name__ == "__main__":
    main()

"""Entry point for `python -m proctor_console`."""

from proctor_console.cli import main

if __name__ == "__main__":
    main()

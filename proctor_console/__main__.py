"""Entry point for `python -m proctor_console`."""

from proctor_console.cli.main import main

if __name__ == "__main__":
    main()

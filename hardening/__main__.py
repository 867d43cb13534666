"""Entry point for `python -m hardening`."""

from hardening.cli import main

if __name__ == "__main__":
    main()

"""Entry point for `python -m item_bank_sync`."""

from item_bank_sync.cli.main import main

if __name__ == "__main__":
    main()

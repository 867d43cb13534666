"""Invigil shared core: data model, sealing, audit chain, durable store."""

__version__ = "0.1.0"

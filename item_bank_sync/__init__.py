"""Invigil central body: item bank, forms, publishing, sync API, intake, scoring, analysis."""

__version__ = "0.1.0"

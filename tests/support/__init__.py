"""Shared test worlds, fakes and helpers, imported by test modules and conftests (never a test module
imported by another)."""

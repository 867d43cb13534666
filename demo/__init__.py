"""The Invigil demonstration: one command runs a central body, a test centre and three kiosks.

``python -m demo`` (called by ``scripts/demo``) plays the people around real processes; see
:mod:`demo.orchestrate`. ``--scripted`` runs without a person and prints a JSON summary counted
from each node's database (:mod:`demo.summary`).
"""

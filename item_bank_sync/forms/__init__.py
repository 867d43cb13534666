"""Certification schemes and the forms built from them: schemes and blueprints (``schemes``),
form assembly (``assembly``), stored forms and item statistics (``store``), encrypted packages
published to one centre (``publish``) and QTI export of a form (``export``).
"""

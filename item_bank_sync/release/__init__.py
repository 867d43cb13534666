"""Results release (ISO/IEC 17024 9.4, issue 17): scored attempts are held, reviewed and released
by a person with the right role; only a released result reaches the candidate, with its score report."""

"""Appeals and complaints as cases, the re-score replay, corrective actions and the accreditation
evidence pack (ISO/IEC 17024 9.8, 9.9, 10.2; issue 17)."""

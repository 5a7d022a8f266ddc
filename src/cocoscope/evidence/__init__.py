"""Everything read from outside, parsed into typed immutable records."""

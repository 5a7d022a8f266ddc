"""Attestation: SNP reports, TDX quotes, launch measurement, and the shared policy framework."""

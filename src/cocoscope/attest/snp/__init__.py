"""AMD SEV-SNP: attestation reports, their verification, and launch measurement (measure/)."""

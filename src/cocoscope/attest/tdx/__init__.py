"""Intel TDX: quote parsing and verification (PCK chain, collateral, TCB status, policy)."""

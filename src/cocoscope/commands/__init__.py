"""One module per command group; each exposes ``register`` (or ``register_attest`` /
``register_measure``) taking the parent's subparsers."""

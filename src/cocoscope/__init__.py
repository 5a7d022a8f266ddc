"""cocoscope: audit a Linux confidential-computing guest against the Linux CoCo threat model."""

__version__ = "0.1.0"

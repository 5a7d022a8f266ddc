"""Source-level host-input attack surface: catalogue, tree-sitter scanner, inventory.

Public API: ``cocoscope.surface.api.inventory(source, config, platform=...)`` returns an
``Inventory`` of ``Site`` records; ``site_counts`` condenses it for the audit report;
``load_catalogue().names_by_interface()`` lists the primitives (for pattern generators).
"""

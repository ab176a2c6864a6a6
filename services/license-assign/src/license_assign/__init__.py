"""Customer accounts, teams, packs, licenses, assignments, invitation links, activation codes."""

SERVICE = "license-assign"

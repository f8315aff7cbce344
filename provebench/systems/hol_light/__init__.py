"""HOL Light: static vetting, the check server's session, template walks, launchers, the verifier."""

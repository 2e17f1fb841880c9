"""Multi-host deployment: party bundles with TLS, running one party per host, mapping real exports."""

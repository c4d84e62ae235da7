"""Stand-ins for external executables the tests cannot install (see each module)."""

"""The webstack CrossGuard policy pack (run by the CLI from this directory; `validators` is importable in tests)."""

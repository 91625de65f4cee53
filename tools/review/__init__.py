"""Review a change without credentials: plan diff, monthly cost, policy report, architecture diagram, PR comment."""

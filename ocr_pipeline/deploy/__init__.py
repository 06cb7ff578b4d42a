"""Production deployment settings (ECS) that the code location reads from the environment."""

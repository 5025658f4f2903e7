"""Local model artefacts: the tiny smoke model built from the task text."""

"""Workflow JSON in, a validated step plan and prompts out. Pure: no I/O."""

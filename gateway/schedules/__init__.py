"""Schedules: saved workflows run on the Agent Server's crons."""

"""Workflow threads on the Agent Server: reads, views, progress, runs, control, upkeep.

Takes plain arguments and raises `gateway.errors`; never imports `gateway.api`.
"""

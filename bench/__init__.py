"""Benchmarks: gateway vs direct `langgraph-sdk` calls, measured in the same run."""

"""Threadgate: a stateless gateway for durable AI workflows on LangGraph Platform."""

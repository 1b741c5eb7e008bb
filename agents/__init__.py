"""LangGraph graphs deployed on the Agent Server."""

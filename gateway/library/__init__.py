"""The workflow library: saved, versioned workflows as Agent Server assistants, their
documents in the store, and a thread's plan saved as a workflow."""

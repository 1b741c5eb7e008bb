"""The audit trail: who did what to which thread, kept in the Agent Server's store."""

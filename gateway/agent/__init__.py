"""The one Agent Server client of this process: who each call acts for, its HTTP
transport, JSON handling, and several calls at once."""

"""`threadgate`: the operator's command line, a client of the gateway's HTTP API."""

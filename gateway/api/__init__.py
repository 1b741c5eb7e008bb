"""The HTTP face: the app, routes, dependencies, auth, request models, errors, frames."""

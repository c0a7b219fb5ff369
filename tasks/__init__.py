"""Celery tasks: thin wrappers over engine services (ids in, one service call, no logic)."""

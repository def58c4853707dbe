"""Slack: the request's message and its buttons, where it goes, the Web API client, and the
front door that turns a signed click into a decision with a proof the worker accepts."""

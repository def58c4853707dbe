"""Trust primitives of signed approvals: people's OpenSSH Ed25519 keys and the worker's own key.

A decision is only as trustworthy as the signature on it, so everything that reads, writes,
signs or verifies a key lives here, in one place, with errors that say what was wrong with the
key without ever quoting private material. ``keys`` handles OpenSSH key files and ssh-agent;
``worker_key`` keeps the worker's signing key in AWS Secrets Manager.
"""

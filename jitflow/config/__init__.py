"""Loading, resolving and validating the ``sym_*`` Terraform configuration.

This package imports nothing on purpose: workflow code imports ``jitflow.config.models``,
``jitflow.config.durations`` and ``jitflow.config.lookup`` (pure, no I/O) inside Temporal's
sandbox, and must not pull in the loader. Entry points:

- ``jitflow.config.loader.load_config(path, variables=None, environ=None) -> JitflowConfig``
  (raises ``jitflow.config.issues.ConfigErrors``)
- ``jitflow.config.durations.parse_duration(text) -> int``
- ``jitflow.config.lookup.find_target(config, flow, text) -> AptibleRoleTarget | None``
- ``jitflow.config.checks.POST_LOAD_CHECKS``: checks ``jitflow validate`` runs after loading
"""

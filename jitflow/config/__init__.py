"""Loading, resolving and validating the ``sym_*`` Terraform configuration."""

# The flow users request access with: pick a role, give a reason and a duration; an approver
# decides. Its reducers and hooks live in the reducers.aptible_access module.

resource "sym_environment" "this" {
  name  = local.environment_name
  label = "Main"
}

resource "sym_flow" "this" {
  name  = "aptible_access"
  label = "Aptible Access"

  implementation = "reducers.aptible_access"
  environment_id = sym_environment.this.id

  vars = {
    approvers       = "bob@example.com"
    on_call         = "carol@example.com"
    request_timeout = "24h"
  }

  params {
    strategy_id = sym_strategy.this.id

    prompt_field {
      name     = "reason"
      type     = "string"
      required = true
    }

    prompt_field {
      name           = "duration"
      type           = "duration"
      required       = true
      allowed_values = ["30s", "10m", "1h", "8h", "1d"]
    }
  }
}

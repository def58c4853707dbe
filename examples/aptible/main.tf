# jitflow's example configuration: the Aptible Access Strategy page's resources, corrected and
# completed so that `jitflow validate examples/aptible` passes. jitflow reads these sym_* blocks
# exactly as Sym's Terraform provider would; the rest of the project demos and tests with them.

locals {
  environment_name = "main"
}

# Where the Aptible bot's credentials live: AWS Secrets Manager, one JSON secret
# {"username": "...", "password": "..."}.
resource "sym_secrets" "this" {
  type = "aws_secrets_manager"
  name = "main-sm"
}

resource "aws_secretsmanager_secret" "aptible_bot_credentials" {
  name        = "sym/main/aptible-bot-credentials"
  description = "Username and password for Aptible Bot User"

  tags = {
    SymEnv = local.environment_name
  }
}

resource "sym_secret" "aptible_bot_username" {
  source_id = sym_secrets.this.id
  path      = aws_secretsmanager_secret.aptible_bot_credentials.name

  settings = {
    json_key = "username"
  }
}

resource "sym_secret" "aptible_bot_password" {
  source_id = sym_secrets.this.id
  path      = aws_secretsmanager_secret.aptible_bot_credentials.name

  settings = {
    json_key = "password"
  }
}

resource "sym_integration" "aptible" {
  type = "aptible"
  name = "main-aptible"

  # The Aptible organization whose role memberships jitflow manages.
  external_id = "94a49e57-d046-4d9d-9dbf-f7711e337368"

  settings = {
    username_secret = sym_secret.aptible_bot_username.id
    password_secret = sym_secret.aptible_bot_password.id
  }
}

resource "sym_target" "admin_prod" {
  type = "aptible_role"

  name  = "main-aptible-admin-role"
  label = "Admin Role"

  settings = {
    role_id = "24463EF7-1D6E-402E-A365-69CB6DB80C6E"
  }
}

resource "sym_target" "admin_ro" {
  type = "aptible_role"

  name  = "main-aptible-admin-ro-role"
  label = "Admin Read-Only Role"

  settings = {
    role_id = "C7D5F21A-1D4E-4B39-9957-F8ACABDE2A3A"
  }
}

resource "sym_strategy" "this" {
  type = "aptible"
  name = "main-aptible-strategy"

  integration_id = sym_integration.aptible.id
  targets        = [sym_target.admin_prod.id, sym_target.admin_ro.id]
}

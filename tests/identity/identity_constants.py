"""Fixed UUIDs the identity tests share (a module of its own: ``conftest`` names are not unique)."""

from jitflow.devstack.example import EXAMPLE_ORG_ID

ORG = EXAMPLE_ORG_ID
OTHER_ORG = "0b6f3a52-8c1e-4f0e-9d6a-3c2b1a0f9e8d"
ALICE_ID = "3f1c6d2a-5b4e-4c8f-9a7d-1e2f3a4b5c6d"
BOB_ID = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"

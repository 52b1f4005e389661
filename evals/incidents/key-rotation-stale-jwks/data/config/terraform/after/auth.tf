# Signing keys of the platform's OIDC authorization server.
resource "tls_private_key" "signing_2026_10" {
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "tls_private_key" "signing_2026_11" {
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "auth_signing_key" "primary" {
  server_id   = "aus-platform-default"
  kid         = "sig-2026-11b"
  private_key = tls_private_key.signing_2026_11.private_key_pem
  status      = "ACTIVE"
}

resource "auth_signing_key" "previous" {
  server_id   = "aus-platform-default"
  kid         = "sig-2026-10a"
  private_key = tls_private_key.signing_2026_10.private_key_pem
  status      = "VERIFY_ONLY"
}

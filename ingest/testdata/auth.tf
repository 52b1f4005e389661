resource "auth_signing_key" "primary" {
  kid    = "sig-2026-11b"
  status = "ACTIVE"
}

resource "auth_signing_key" "previous" {
  kid    = "sig-2026-10a"
  status = "VERIFY_ONLY"
}

#!/usr/bin/env bash
# The offline-payment walkthrough of the README, end to end, in a fresh directory:
# issuer (data directory) -> wallet enrolment -> terminal registration -> request -> pay ->
# accept -> batch -> clearing -> the merchant is paid from the device's reserve.
# Usage: scripts/offline-walkthrough.sh [path/to/tpwallet] [work-dir]
# The test suite runs it (tests/integration), so the README's commands stay true.
set -euo pipefail
T="$(realpath "${1:-./build/tpwallet}")"
if [ -n "${2:-}" ]; then
  work="$2"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work" && cd "$work"
# Passphrases from the environment; the cheap KDF is for this demo and tests only.
export TPWALLET_TEST_FAST_KDF=1 TPWALLET_ISSUER_PASSPHRASE=issuer-pass \
       TPWALLET_WALLET_PASSPHRASE=wallet-pass TPWALLET_TERMINAL_PASSPHRASE=terminal-pass
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

echo "== issuer: a ledger with a user (2, funded), a merchant (3), and the issuer key"
$T init --data-dir data
$T account create --data-dir data --id 1 --ledger USD --code 1
$T account create --data-dir data --id 2 --ledger USD --code 10 --flags debits_must_not_exceed_credits
$T account create --data-dir data --id 3 --ledger USD --code 20
$T transfer --data-dir data --id 1 --debit 1 --credit 2 --amount 500.00 --ledger USD --code 1
$T issuer init --data-dir data
issuer="1:$($T issuer show --data-dir data --json | json 'd["keys"][0]["public_key_base64url"]')"

echo "== wallet: create, enrol (the reserve, account 4, gets the allowance), install"
$T wallet create --wallet-dir w --issuer-key "$issuer"
device=$($T wallet show --wallet-dir w --json | json 'd["device_id"]')
device_key=$($T wallet show --wallet-dir w --json | json 'd["device_public_key"]')
$T device enroll --data-dir data --device "$device" --public-key "$device_key" --user-account 2 \
  --reserve-account 4 --ledger USD --allowance 100.00 --per-payment-max 20.00 --payments-max 10 \
  --out cert.bin
$T wallet install cert.bin --wallet-dir w

echo "== terminal: create, register for merchant 60 (paid into account 3), load the deny list"
$T terminal init --terminal-dir t --terminal 50 --merchant 60 --issuer-key "$issuer"
terminal_key=$($T terminal status --terminal-dir t --json | json 'd["public_key"]')
$T terminal register --data-dir data --terminal 50 --merchant 60 --settlement-account 3 \
  --public-key "$terminal_key"
$T denylist export --data-dir data --out denylist.bin
$T terminal denylist update denylist.bin --terminal-dir t

echo "== offline: request -> pay -> accept (no network involved)"
$T terminal request --terminal-dir t --amount 12.34 --ledger USD --no-qr --out request.bin
$T wallet pay request.bin --wallet-dir w --no-qr --out token.bin
$T terminal accept token.bin --terminal-dir t

echo "== later, online: batch -> clearing -> the merchant is paid"
$T terminal batch --terminal-dir t --out-dir batches
for f in batches/batch-*.bin; do
  $T clearing submit "$f" --data-dir data
  id=$(basename "$f" .bin); $T terminal uploaded "${id#batch-}" --terminal-dir t
done
$T account show 3 4 --data-dir data
paid=$($T account show 3 --data-dir data --json | json 'd["accounts"][0]["credits_posted"]')
[ "$paid" = "12.34" ] || { echo "walkthrough: merchant account 3 holds $paid, expected 12.34" >&2; exit 1; }
echo "walkthrough: ok (merchant paid 12.34 USD from the device's reserve)"

/* Wallet result codes: one list shared by the C++ API (wallet.h, enum class WalletError) and the
 * C API (wallet_c.h, TPW_WALLET_<name> constants), so the two can never drift apart.
 *
 * Plain C preprocessor on purpose: this header is included from C.
 * Stable numeric values: they reach apps, logs and CLI exit codes. Append only. */
#ifndef TPW_WALLET_WALLET_ERRORS_H_
#define TPW_WALLET_WALLET_ERRORS_H_

/* X(name, value, message) */
#define TPW_WALLET_ERRORS(X)                                                                      \
  X(ok, 0, "success")                                                                             \
  /* Create / Open */                                                                             \
  X(wallet_exists, 1, "a wallet already exists in this directory")                                \
  X(no_wallet, 2, "no wallet in this directory (no device keystore)")                             \
  X(wrong_passphrase, 3, "wrong passphrase, or the keystore file was modified")                   \
  X(invalid_passphrase, 4, "the passphrase is empty or longer than 1024 bytes")                   \
  X(corrupt_keystore, 5, "the device keystore file is damaged or not a keystore")                 \
  X(corrupt_state, 6,                                                                             \
    "the wallet state file is damaged; the wallet refuses to guess its counters")                 \
  X(keystore_state_mismatch, 7, "the state file belongs to another device key than the keystore") \
  X(wallet_locked, 8, "another process has this wallet open")                                     \
  X(storage_failed, 9, "reading or writing the wallet directory failed")                          \
  X(out_of_memory, 10, "the keystore's key derivation could not allocate its memory")             \
  /* Issuer and certificates */                                                                   \
  X(issuer_not_pinned, 11, "no issuer key is pinned yet: pin one before installing certificates") \
  X(issuer_already_pinned, 12, "another issuer key is already pinned")                            \
  X(malformed_certificate, 13, "the certificate does not decode")                                 \
  X(unknown_issuer_key, 14, "the message names an issuer key id other than the pinned one")       \
  X(bad_certificate_signature, 15, "the certificate is not signed by the pinned issuer key")      \
  X(wrong_device, 16, "the certificate is for another device (device id or public key)")          \
  X(serial_conflict, 17, "a different certificate with this serial is already installed")         \
  X(counter_range_reused, 18,                                                                     \
    "the certificate's counter range is not above every counter this wallet ever held")           \
  X(too_many_certificates, 19, "the wallet already holds the most certificates it may hold")      \
  X(malformed_sync_statement, 20, "the sync statement does not decode")                           \
  X(bad_sync_statement_signature, 21, "the sync statement is not signed by the pinned issuer")    \
  X(unknown_previous_certificate, 22,                                                             \
    "the sync statement replaces a certificate this wallet does not hold")                        \
  X(sync_mismatch, 23,                                                                            \
    "the sync statement's last_counter_used differs from the wallet's last counter used")         \
  /* Pay */                                                                                       \
  X(malformed_request, 24, "the payment request does not decode")                                 \
  X(no_certificate_for_asset, 25, "no installed certificate is for the request's asset")          \
  X(unknown_serial, 26, "no installed certificate has the chosen serial")                         \
  X(asset_mismatch, 27, "the chosen certificate is for another asset than the request's")         \
  X(certificate_not_yet_valid, 28, "the certificate's validity has not started (device clock)")   \
  X(certificate_expired, 29, "the certificate has expired (device clock)")                        \
  X(counters_exhausted, 30, "every counter of the certificate is used: sync to get new ones")     \
  X(over_per_payment_max, 31, "the amount is above the certificate's per-payment maximum")        \
  X(allowance_exhausted, 32, "the amount is above what remains of the certificate's allowance")   \
  X(pin_required, 33, "the amount is above the PIN threshold and the PIN was not verified")       \
  X(sync_pending, 34,                                                                             \
    "a sync request was issued for this certificate: it pays no more until the sync completes")   \
  /* C API */                                                                                     \
  X(buffer_too_small, 35, "the output buffer is too small; the size needed was written back")     \
  X(invalid_argument, 36, "a required argument is null or out of range")                          \
  X(internal_error, 37, "an unexpected internal failure (a bug); nothing was signed")             \
  X(no_certificate, 38, "the wallet holds no certificate")                                        \
  X(ambiguous_certificate, 39, "the wallet holds several certificates: name the serial")

#endif /* TPW_WALLET_WALLET_ERRORS_H_ */

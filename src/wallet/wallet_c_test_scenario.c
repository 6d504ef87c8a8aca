/* The C API used from C (compiled as C11): create, pin, install, pay, sync request, status,
 * error strings, buffer sizing and null arguments. Each function returns 0 when every step went
 * as expected, else the source line of the first surprise; wallet_c_test.cc drives them and does
 * the cryptographic checks on what they produce. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wallet/wallet_c.h"

#define EXPECT(cond)   \
  do {                 \
    if (!(cond)) {     \
      return __LINE__; \
    }                  \
  } while (0)

static const char kPassphrase[] = "c passphrase";

static tpw_wallet_create_options FastOptions(uint32_t issuer_key_id,
                                             const uint8_t* issuer_public_key) {
  tpw_wallet_create_options options;
  memset(&options, 0, sizeof options);
  options.pin_issuer = 1;
  options.issuer_key_id = issuer_key_id;
  memcpy(options.issuer_public_key, issuer_public_key, TPW_WALLET_PUBLIC_KEY_BYTES);
  options.kdf_opslimit = 1; /* Argon2id's minimum: tests only */
  options.kdf_memlimit_kib = 8;
  return options;
}

int tpw_c_test_create(const char* directory, uint32_t issuer_key_id,
                      const uint8_t* issuer_public_key, uint8_t* device_id, uint8_t* device_key) {
  tpw_wallet* wallet = NULL;
  tpw_wallet_status status;
  const tpw_wallet_create_options options = FastOptions(issuer_key_id, issuer_public_key);
  EXPECT(tpw_wallet_create(directory, kPassphrase, sizeof kPassphrase - 1, &options, &wallet) ==
         TPW_WALLET_ok);
  EXPECT(wallet != NULL);
  EXPECT(tpw_wallet_get_status(wallet, &status) == TPW_WALLET_ok);
  EXPECT(status.issuer_pinned == 1);
  EXPECT(status.issuer_key_id == issuer_key_id);
  EXPECT(status.certificate_count == 0);
  memcpy(device_id, status.device_id, 16);
  memcpy(device_key, status.device_public_key, TPW_WALLET_PUBLIC_KEY_BYTES);
  tpw_wallet_close(wallet);
  return 0;
}

int tpw_c_test_pay(const char* directory, const uint8_t* certificate, size_t certificate_len,
                   const uint8_t* request, size_t request_len, uint64_t now_ms, uint8_t* token,
                   size_t* token_len) {
  tpw_wallet* wallet = NULL;
  tpw_wallet_certificate_status certificate_status;
  tpw_wallet_pay_options options;
  uint8_t small[16];
  size_t small_len = sizeof small;
  EXPECT(tpw_wallet_open(directory, kPassphrase, sizeof kPassphrase - 1, &wallet) == TPW_WALLET_ok);
  EXPECT(tpw_wallet_install_certificate(wallet, certificate, certificate_len) == TPW_WALLET_ok);
  /* A buffer that is too small says how big it must be and uses no counter. */
  EXPECT(tpw_wallet_pay(wallet, request, request_len, NULL, now_ms, small, &small_len) ==
         TPW_WALLET_buffer_too_small);
  EXPECT(small_len == TPW_WALLET_TOKEN_BYTES);
  memset(&options, 0, sizeof options);
  EXPECT(tpw_wallet_pay(wallet, request, request_len, &options, now_ms, token, token_len) ==
         TPW_WALLET_ok);
  EXPECT(*token_len == TPW_WALLET_TOKEN_BYTES);
  EXPECT(tpw_wallet_get_certificate(wallet, 0, &certificate_status) == TPW_WALLET_ok);
  EXPECT(certificate_status.last_counter_used == certificate_status.counter_first);
  EXPECT(certificate_status.remaining_payments == certificate_status.payment_count_max - 1);
  EXPECT(certificate_status.sync_pending == 0);
  EXPECT(tpw_wallet_get_certificate(wallet, 1, &certificate_status) == TPW_WALLET_invalid_argument);
  tpw_wallet_close(wallet);
  return 0;
}

int tpw_c_test_declines(const char* directory, const uint8_t* request, size_t request_len,
                        uint64_t now_ms) {
  tpw_wallet* wallet = NULL;
  tpw_wallet_pay_options options;
  uint8_t token[TPW_WALLET_TOKEN_BYTES];
  size_t token_len = sizeof token;
  EXPECT(tpw_wallet_open(directory, kPassphrase, sizeof kPassphrase - 1, &wallet) == TPW_WALLET_ok);
  EXPECT(tpw_wallet_pay(wallet, request, request_len - 1, NULL, now_ms, token, &token_len) ==
         TPW_WALLET_malformed_request);
  EXPECT(strlen(tpw_wallet_last_detail()) > 0);
  memset(&options, 0, sizeof options);
  options.use_serial = 1;
  options.serial = 999;
  EXPECT(tpw_wallet_pay(wallet, request, request_len, &options, now_ms, token, &token_len) ==
         TPW_WALLET_unknown_serial);
  EXPECT(tpw_wallet_install_certificate(wallet, request, request_len) ==
         TPW_WALLET_malformed_certificate);
  EXPECT(tpw_wallet_install_certificate(wallet, NULL, 0) == TPW_WALLET_malformed_certificate);
  tpw_wallet_close(wallet);
  return 0;
}

int tpw_c_test_sync_request(const char* directory, uint8_t* out, size_t* out_len) {
  tpw_wallet* wallet = NULL;
  tpw_wallet_certificate_status certificate_status;
  EXPECT(tpw_wallet_open(directory, kPassphrase, sizeof kPassphrase - 1, &wallet) == TPW_WALLET_ok);
  EXPECT(tpw_wallet_sync_request(wallet, 0, 0, out, out_len) == TPW_WALLET_ok);
  EXPECT(*out_len == TPW_WALLET_SYNC_REQUEST_BYTES);
  EXPECT(tpw_wallet_get_certificate(wallet, 0, &certificate_status) == TPW_WALLET_ok);
  EXPECT(certificate_status.sync_pending == 1);
  tpw_wallet_close(wallet);
  return 0;
}

int tpw_c_test_errors(const char* directory, const char* empty_directory) {
  tpw_wallet* wallet = NULL;
  size_t len = 0;
  EXPECT(strcmp(tpw_wallet_error_name(TPW_WALLET_ok), "ok") == 0);
  EXPECT(strcmp(tpw_wallet_error_name(TPW_WALLET_pin_required), "pin_required") == 0);
  EXPECT(strcmp(tpw_wallet_error_name(-1), "unknown") == 0);
  EXPECT(strcmp(tpw_wallet_error_message(10000), "unknown") == 0);
  EXPECT(strlen(tpw_wallet_error_message(TPW_WALLET_counters_exhausted)) > 0);
  EXPECT(tpw_wallet_open(directory, "nope", 4, &wallet) == TPW_WALLET_wrong_passphrase);
  EXPECT(wallet == NULL);
  EXPECT(tpw_wallet_open(directory, kPassphrase, 0, &wallet) == TPW_WALLET_invalid_passphrase);
  EXPECT(tpw_wallet_open(empty_directory, kPassphrase, sizeof kPassphrase - 1, &wallet) ==
         TPW_WALLET_no_wallet);
  EXPECT(tpw_wallet_open(NULL, kPassphrase, 1, &wallet) == TPW_WALLET_invalid_argument);
  EXPECT(tpw_wallet_open(directory, kPassphrase, 1, NULL) == TPW_WALLET_invalid_argument);
  EXPECT(tpw_wallet_pay(NULL, NULL, 0, NULL, 0, NULL, &len) == TPW_WALLET_invalid_argument);
  EXPECT(tpw_wallet_sync_request(NULL, 0, 0, NULL, &len) == TPW_WALLET_invalid_argument);
  EXPECT(tpw_wallet_get_status(NULL, NULL) == TPW_WALLET_invalid_argument);
  EXPECT(tpw_wallet_create(directory, kPassphrase, sizeof kPassphrase - 1, NULL, &wallet) ==
         TPW_WALLET_wallet_exists);
  EXPECT(tpw_wallet_open(directory, kPassphrase, sizeof kPassphrase - 1, &wallet) == TPW_WALLET_ok);
  {
    tpw_wallet* second = NULL;
    EXPECT(tpw_wallet_open(directory, kPassphrase, sizeof kPassphrase - 1, &second) ==
           TPW_WALLET_wallet_locked);
  }
  EXPECT(tpw_wallet_pay(wallet, NULL, 0, NULL, 0, NULL, NULL) == TPW_WALLET_invalid_argument);
  tpw_wallet_close(wallet);
  tpw_wallet_close(NULL);
  return 0;
}

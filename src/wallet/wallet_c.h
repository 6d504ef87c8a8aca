/* C API of the wallet: what a mobile app (or any non-C++ host) embeds.
 *
 * A thin layer over wallet/wallet.h on a real directory (PosixStorage). Conventions:
 *   - Every function returns an int result code: TPW_WALLET_ok (0) or one of the
 *     TPW_WALLET_<name> codes below (stable values, wallet_errors.h). tpw_wallet_error_name()
 *     and tpw_wallet_error_message() describe a code; tpw_wallet_last_detail() says what exactly
 *     failed in the last failing call on this thread ("certificate serial 7 expired at ...").
 *   - Output buffers are the caller's: pass the capacity in *len; on success *len is the number
 *     of bytes written; on TPW_WALLET_buffer_too_small *len is the size needed and nothing
 *     happened (no counter is used, nothing is signed).
 *   - Amounts are u128 minor units as 16 bytes little-endian; ids (device id) likewise.
 *   - No C++ exception ever crosses this boundary (TPW_WALLET_internal_error instead).
 *   - A tpw_wallet* is used by one thread at a time. It holds the directory lock and the
 *     unlocked device key until tpw_wallet_close(), which wipes the key.
 */
#ifndef TPW_WALLET_WALLET_C_H_
#define TPW_WALLET_WALLET_C_H_

#include <stddef.h>
#include <stdint.h>

#include "wallet/wallet_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tpw_wallet_result {
#define TPW_WALLET_C_X(name, value, message) TPW_WALLET_##name = value,
  TPW_WALLET_ERRORS(TPW_WALLET_C_X)
#undef TPW_WALLET_C_X
};

#define TPW_WALLET_TOKEN_BYTES 424       /* an encoded payment token */
#define TPW_WALLET_SYNC_REQUEST_BYTES 96 /* device_id 16, serial 8, last_counter_used 8, sig 64 */
#define TPW_WALLET_PUBLIC_KEY_BYTES 32

typedef struct tpw_wallet tpw_wallet;

typedef struct tpw_wallet_create_options {
  int pin_issuer; /* nonzero: pin the issuer key below now */
  uint32_t issuer_key_id;
  uint8_t issuer_public_key[TPW_WALLET_PUBLIC_KEY_BYTES];
  /* Argon2id cost of the keystore; both 0 = libsodium's INTERACTIVE preset (the default). */
  uint32_t kdf_opslimit;
  uint32_t kdf_memlimit_kib;
} tpw_wallet_create_options;

typedef struct tpw_wallet_pay_options {
  int pin_verified; /* nonzero: the app verified the PIN for this payment */
  int use_serial;   /* nonzero: pay from certificate `serial`, not the funding rule's choice */
  uint64_t serial;
} tpw_wallet_pay_options;

typedef struct tpw_wallet_status {
  uint8_t device_id[16];
  uint8_t device_public_key[TPW_WALLET_PUBLIC_KEY_BYTES];
  int issuer_pinned;
  uint32_t issuer_key_id;
  uint8_t issuer_public_key[TPW_WALLET_PUBLIC_KEY_BYTES];
  uint32_t certificate_count;
  uint64_t tokens_signed;
  uint8_t previous_token_hash[32];
} tpw_wallet_status;

typedef struct tpw_wallet_certificate_status {
  uint64_t serial;
  uint32_t asset;
  uint32_t payment_count_max;
  uint32_t remaining_payments;
  uint64_t counter_first;
  uint64_t last_counter_used; /* counter_first - 1 when none was used */
  uint8_t per_payment_max[16];
  uint8_t allowance[16];
  uint8_t spent[16];
  uint8_t remaining_allowance[16];
  uint8_t cvm_threshold[16];
  uint64_t valid_from;
  uint64_t valid_until;
  int sync_pending;
} tpw_wallet_certificate_status;

/* Creates a wallet in `directory` (created if missing). `options` may be NULL. */
int tpw_wallet_create(const char* directory, const char* passphrase, size_t passphrase_len,
                      const tpw_wallet_create_options* options, tpw_wallet** out);
int tpw_wallet_open(const char* directory, const char* passphrase, size_t passphrase_len,
                    tpw_wallet** out);
/* Releases the lock and wipes the key. NULL is allowed. */
void tpw_wallet_close(tpw_wallet* wallet);

int tpw_wallet_pin_issuer(tpw_wallet* wallet, uint32_t key_id,
                          const uint8_t public_key[TPW_WALLET_PUBLIC_KEY_BYTES]);
int tpw_wallet_install_certificate(tpw_wallet* wallet, const uint8_t* bytes, size_t len);
int tpw_wallet_install_sync_statement(tpw_wallet* wallet, const uint8_t* bytes, size_t len);

/* Pays `request` (an encoded payment request) at device time `now_ms`; writes the token.
 * `options` may be NULL (no PIN, funding rule). */
int tpw_wallet_pay(tpw_wallet* wallet, const uint8_t* request, size_t request_len,
                   const tpw_wallet_pay_options* options, uint64_t now_ms, uint8_t* token,
                   size_t* token_len);
/* Signs a sync request for certificate `serial` (or the only one, when use_serial is 0) and
 * writes it (TPW_WALLET_SYNC_REQUEST_BYTES). The certificate pays no more until its sync
 * statement is installed. */
int tpw_wallet_sync_request(tpw_wallet* wallet, int use_serial, uint64_t serial, uint8_t* out,
                            size_t* out_len);

int tpw_wallet_get_status(const tpw_wallet* wallet, tpw_wallet_status* out);
/* Certificate `index` (0 .. certificate_count - 1, ascending serial). */
int tpw_wallet_get_certificate(const tpw_wallet* wallet, uint32_t index,
                               tpw_wallet_certificate_status* out);

/* Static strings; "unknown" for codes not in the list. */
const char* tpw_wallet_error_name(int code);
const char* tpw_wallet_error_message(int code);
/* The detail of the last failing call on this thread ("" if none); valid until the next call. */
const char* tpw_wallet_last_detail(void);

#ifdef __cplusplus
}
#endif

#endif /* TPW_WALLET_WALLET_C_H_ */

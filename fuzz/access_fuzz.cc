// The access state's encodings (access/access.h), as journal facts and snapshot items carry
// them: byte 0 picks the decoder (0 = API key, version 1 or 2 with merchant accounts; 1 =
// idempotency record). A decoded item must encode back to exactly the input: the layout is
// canonical.
#include <algorithm>
#include <vector>

#include "access/access.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto body = tpw::fuzz::AsSpan(data + 1, size - 1);
  std::vector<uint8_t> encoded;
  if (data[0] % 2 == 0) {
    const auto key = tpw::access::DecodeApiKey(body);
    if (!key) return 0;
    FUZZ_CHECK(key->id != 0 && key->name.size() <= tpw::access::kKeyNameBytesMax);
    // Version 2's binding: a merchant key's, within the limit, ascending, none zero; the key
    // acts for exactly those accounts.
    FUZZ_CHECK(tpw::access::MerchantBindingError(key->scope, key->merchant_accounts).empty());
    for (const tpw::AccountId merchant : key->merchant_accounts) {
      FUZZ_CHECK(key->MayActFor(merchant));
    }
    encoded = tpw::access::EncodeApiKey(*key);
  } else {
    const auto record = tpw::access::DecodeIdempotencyRecord(body);
    if (!record) return 0;
    FUZZ_CHECK(!record->key.empty() && record->key.size() <= tpw::access::kIdempotencyKeyBytesMax);
    encoded = tpw::access::EncodeIdempotencyRecord(*record);
  }
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), body.begin(), body.end()));
  return 0;
}

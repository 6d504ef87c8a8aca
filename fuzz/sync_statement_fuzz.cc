// Offline sync statement (offline/messages.h): DecodeSyncStatement on any bytes; what decodes must
// encode back to the same bytes.
#include "offline_round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tpw::fuzz::CheckOfflineRoundTrip(tpw::fuzz::AsSpan(data, size),
                                   &tpw::offline::DecodeSyncStatement);
  return 0;
}

// Offline deny list, full or delta (offline/messages.h): DecodeDenyList on any bytes; what decodes
// must encode back to the same bytes.
#include "offline_round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tpw::fuzz::CheckOfflineRoundTrip(tpw::fuzz::AsSpan(data, size), &tpw::offline::DecodeDenyList);
  return 0;
}

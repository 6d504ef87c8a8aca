// Snapshot encoding of a ChunkedVector (common/chunked_vector.h): the element count, then the
// elements chunk by chunk, as raw bytes (the element types are trivially copyable and
// fixed-layout).
#pragma once

#include <algorithm>
#include <cstdint>

#include "common/chunked_vector.h"
#include "ledger/state_io.h"

namespace tpw::ledger {

using tpw::ChunkedVector;

template <typename T>
void SaveChunked(StateSink& sink, const ChunkedVector<T>& v) {
  constexpr size_t kPerChunk = ChunkedVector<T>::kPerChunk;
  sink.U64(v.size());
  for (size_t done = 0; done < v.size(); done += kPerChunk) {
    const size_t n = std::min(kPerChunk, v.size() - done);
    sink.Write({reinterpret_cast<const uint8_t*>(v.chunk_data(done / kPerChunk)), n * sizeof(T)});
  }
}

// Replaces the contents; false if the data is short.
template <typename T>
[[nodiscard]] bool LoadChunked(StateSource& source, ChunkedVector<T>& v) {
  constexpr size_t kPerChunk = ChunkedVector<T>::kPerChunk;
  uint64_t count = 0;
  if (!source.U64(count) || count > source.remaining() / sizeof(T)) return false;
  v.ResizeForOverwrite(count);
  for (size_t done = 0; done < count; done += kPerChunk) {
    const size_t n = std::min<size_t>(kPerChunk, count - done);
    if (!source.Read({reinterpret_cast<uint8_t*>(v.chunk_data(done / kPerChunk)), n * sizeof(T)})) {
      v.resize_down(0);
      return false;
    }
  }
  return true;
}

}  // namespace tpw::ledger

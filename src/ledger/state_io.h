// StateSink / StateSource: where a snapshot of derived state is streamed to and read from.
//
// The ledger and its store write their in-memory structures as raw, length-prefixed arrays:
// a snapshot is derived data tied to this build's layout (the engine stamps a layout
// fingerprint into the file and rejects foreign snapshots), so the fastest encoding is a
// straight copy. Bounds: every length read back is checked against `remaining()` before
// anything is allocated, so a damaged snapshot is an error, never a huge allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

namespace tpw::ledger {

class StateSink {
 public:
  virtual ~StateSink() = default;
  virtual void Write(std::span<const uint8_t> bytes) = 0;

  void U64(uint64_t v) { Write({reinterpret_cast<const uint8_t*>(&v), sizeof v}); }
  template <typename T>
  void Array(const T* items, uint64_t count) {
    static_assert(std::is_trivially_copyable_v<T>);
    U64(count);
    Write({reinterpret_cast<const uint8_t*>(items), count * sizeof(T)});
  }
  template <typename T>
  void Vector(const std::vector<T>& items) {
    Array(items.data(), items.size());
  }
};

class StateSource {
 public:
  virtual ~StateSource() = default;
  // Fills `out` completely, or returns false (and stays failed) at the end of the data or on a
  // read error.
  virtual bool Read(std::span<uint8_t> out) = 0;
  // Bytes left in the source (an upper bound for any length field).
  virtual uint64_t remaining() const = 0;

  bool U64(uint64_t& v) { return Read({reinterpret_cast<uint8_t*>(&v), sizeof v}); }
  template <typename T>
  bool Vector(std::vector<T>& items) {
    static_assert(std::is_trivially_copyable_v<T>);
    uint64_t count = 0;
    if (!U64(count) || count > remaining() / sizeof(T)) return false;
    items.resize(count);
    return Read({reinterpret_cast<uint8_t*>(items.data()), count * sizeof(T)});
  }
};

}  // namespace tpw::ledger

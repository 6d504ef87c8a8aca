// Shared by the targets that read files: put bytes into a simulated directory and read them back.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "storage/simulated_storage.h"

namespace tpw::fuzz {

inline void PutFile(storage::Storage& storage, const std::string& name,
                    std::span<const uint8_t> bytes) {
  auto file = storage.Open(name, storage::OpenMode::create_new);
  FUZZ_CHECK(file.ok());
  FUZZ_CHECK(file.value()->Append(bytes).ok());
  FUZZ_CHECK(file.value()->DataSync().ok());
}

inline std::vector<uint8_t> GetFile(storage::Storage& storage, const std::string& name) {
  auto file = storage.Open(name, storage::OpenMode::read_only);
  FUZZ_CHECK(file.ok());
  auto size = file.value()->Size();
  FUZZ_CHECK(size.ok());
  std::vector<uint8_t> bytes(static_cast<size_t>(size.value()));
  FUZZ_CHECK(file.value()->ReadExact(0, bytes).ok());
  return bytes;
}

}  // namespace tpw::fuzz

#include "storage/storage.h"

#include <cstring>

#include "common/assert.h"

namespace tpw::storage {

std::string_view StorageErrorName(StorageError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case StorageError::name:          \
    return #name;
    TPW_STORAGE_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown_storage_error";
}

std::string_view StorageErrorMessage(StorageError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case StorageError::name:          \
    return message;
    TPW_STORAGE_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown storage error";
}

std::string StorageFailure::Message() const {
  std::string out = context;
  out += ": ";
  if (errno_value != 0) {
    out += std::strerror(errno_value);
  } else {
    out += StorageErrorMessage(code);
  }
  out += " [";
  out += StorageErrorName(code);
  out += "]";
  return out;
}

Err<StorageFailure> StorageFail(StorageError code, int errno_value, std::string context) {
  return Err<StorageFailure>{StorageFailure{code, errno_value, std::move(context)}};
}

bool IsValidFileName(std::string_view name) {
  if (name.empty() || name.size() > kFileNameBytesMax) return false;
  if (name == "." || name == "..") return false;
  return name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

StorageStatus File::ReadExact(uint64_t offset, std::span<uint8_t> out) {
  StorageResult<size_t> read = Read(offset, out);
  if (!read.ok()) return Err{read.error()};
  if (read.value() != out.size()) {
    return StorageFail(StorageError::io_error, 0,
                       "read " + path() + " at offset " + std::to_string(offset) + ": wanted " +
                           std::to_string(out.size()) + " bytes, the file ended after " +
                           std::to_string(read.value()));
  }
  return StorageStatus::Ok();
}

StorageStatus Storage::WriteFileAtomically(std::string_view name, std::span<const uint8_t> bytes) {
  if (!IsValidFileName(name) || name.size() + kTempSuffix.size() > kFileNameBytesMax) {
    return StorageFail(StorageError::invalid_name, 0, "write " + PathOf(name));
  }
  const std::string temp = std::string(name) + std::string(kTempSuffix);
  {
    StorageResult<std::unique_ptr<File>> file = Open(temp, OpenMode::create_or_open);
    if (!file.ok()) return Err{file.error()};
    // A temp file left by an earlier crash may hold stale bytes: start from empty.
    if (StorageStatus s = file.value()->Truncate(0); !s.ok()) return s;
    if (StorageStatus s = file.value()->Append(bytes); !s.ok()) return s;
    if (StorageStatus s = file.value()->DataSync(); !s.ok()) return s;
  }
  if (StorageStatus s = Rename(temp, name); !s.ok()) return s;
  return SyncDirectory();
}

StorageResult<std::vector<uint8_t>> Storage::ReadFile(std::string_view name, uint64_t bytes_max) {
  StorageResult<std::unique_ptr<File>> file = Open(name, OpenMode::read_only);
  if (!file.ok()) return Err{file.error()};
  StorageResult<uint64_t> size = file.value()->Size();
  if (!size.ok()) return Err{size.error()};
  if (size.value() > bytes_max) {
    return StorageFail(StorageError::too_large, 0,
                       "read " + PathOf(name) + " (" + std::to_string(size.value()) +
                           " bytes, limit " + std::to_string(bytes_max) + ")");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(size.value()));
  if (StorageStatus s = file.value()->ReadExact(0, bytes); !s.ok()) return Err{s.error()};
  return bytes;
}

}  // namespace tpw::storage

#include "engine/snapshot.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/codec.h"
#include "journal/crc32c.h"

namespace tpw::engine {

namespace {

constexpr uint32_t kSnapshotMagic = 0x4e575054;  // "TPWN"
constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kSuffix = ".tps";
constexpr size_t kDigits = 20;
constexpr size_t kHeaderCrcOffset = 92;
constexpr size_t kBufferBytes = size_t{4} << 20;

std::vector<uint8_t> EncodeHeader(const SnapshotHeader& h) {
  BinaryWriter w;
  w.U32(kSnapshotMagic);
  w.U16(kSnapshotVersion);
  w.U16(0);
  w.U64(h.fingerprint);
  w.U64(h.sequence);
  w.Bytes(h.head_hash);
  w.U64(h.body_bytes);
  w.U32(h.body_crc);
  while (w.size() < kHeaderCrcOffset) w.U8(0);
  const uint32_t crc = journal::Crc32c(w.buffer());
  w.U32(crc);
  return w.Take();
}

Result<SnapshotHeader, std::string> DecodeHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() != kSnapshotHeaderBytes) return Err{std::string("file shorter than a header")};
  BinaryReader r(bytes);
  if (r.U32() != kSnapshotMagic) return Err{std::string("not a snapshot (bad magic)")};
  const uint16_t version = r.U16();
  if (version != kSnapshotVersion) {
    return Err{"snapshot format version " + std::to_string(version) + " (this build reads " +
               std::to_string(kSnapshotVersion) + ")"};
  }
  const uint32_t stored_crc =
      static_cast<uint32_t>(bytes[92]) | static_cast<uint32_t>(bytes[93]) << 8 |
      static_cast<uint32_t>(bytes[94]) << 16 | static_cast<uint32_t>(bytes[95]) << 24;
  if (journal::Crc32c(bytes.first(kHeaderCrcOffset)) != stored_crc) {
    return Err{std::string("header checksum mismatch")};
  }
  // Reserved bytes (6..7, 68..91) are zero: a header has one encoding, and bytes this build does
  // not understand behind a good checksum mean a writer it does not know.
  const bool reserved_zero =
      r.U16() == 0 && std::all_of(bytes.begin() + 68, bytes.begin() + kHeaderCrcOffset,
                                  [](uint8_t b) { return b == 0; });
  if (!reserved_zero) return Err{std::string("reserved header bytes are not zero")};
  SnapshotHeader h;
  h.fingerprint = r.U64();
  h.sequence = r.U64();
  const std::span<const uint8_t> hash = r.Bytes(h.head_hash.size());
  std::copy(hash.begin(), hash.end(), h.head_hash.begin());
  h.body_bytes = r.U64();
  h.body_crc = r.U32();
  return h;
}

// Buffers writes into large appends and checksums the body as it goes. The first failure
// sticks; later writes are dropped.
class FileSink final : public ledger::StateSink {
 public:
  explicit FileSink(storage::File& file) : file_(&file) { buffer_.reserve(kBufferBytes); }
  void Write(std::span<const uint8_t> bytes) override {
    crc_ = journal::Crc32cExtend(crc_, bytes);
    total_ += bytes.size();
    while (!bytes.empty()) {
      const size_t n = std::min(bytes.size(), kBufferBytes - buffer_.size());
      buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
      bytes = bytes.subspan(n);
      if (buffer_.size() == kBufferBytes) Flush();
    }
  }
  void Flush() {
    if (status_.ok() && !buffer_.empty()) status_ = file_->Append(buffer_);
    buffer_.clear();
  }
  const storage::StorageStatus& status() const { return status_; }
  uint32_t crc() const { return crc_; }
  uint64_t total() const { return total_; }

 private:
  storage::File* file_;
  std::vector<uint8_t> buffer_;
  storage::StorageStatus status_;
  uint32_t crc_ = 0;
  uint64_t total_ = 0;
};

class FileSource final : public ledger::StateSource {
 public:
  FileSource(storage::File& file, uint64_t offset, uint64_t bytes)
      : file_(&file), offset_(offset), end_(offset + bytes) {}
  bool Read(std::span<uint8_t> out) override {
    if (failed_ || out.size() > end_ - offset_) return Fail();
    while (!out.empty()) {
      if (buffered_ == used_) {
        if (out.size() >= kBufferBytes) {  // large arrays: read straight into place
          if (!file_->ReadExact(offset_, out).ok()) return Fail();
          crc_ = journal::Crc32cExtend(crc_, out);
          offset_ += out.size();
          return true;
        }
        if (!Refill()) return Fail();
      }
      const size_t n = std::min(out.size(), buffered_ - used_);
      std::memcpy(out.data(), buffer_.data() + used_, n);
      crc_ = journal::Crc32cExtend(crc_, out.first(n));
      used_ += n;
      offset_ += n;
      out = out.subspan(n);
    }
    return true;
  }
  uint64_t remaining() const override { return failed_ ? 0 : end_ - offset_; }
  uint32_t crc() const { return crc_; }
  bool failed() const { return failed_; }

 private:
  bool Refill() {
    buffer_.resize(static_cast<size_t>(std::min<uint64_t>(kBufferBytes, end_ - offset_)));
    if (!file_->ReadExact(offset_, buffer_).ok()) return false;
    buffered_ = buffer_.size();
    used_ = 0;
    return true;
  }
  bool Fail() {
    failed_ = true;
    return false;
  }
  storage::File* file_;
  uint64_t offset_;  // file offset of the next byte handed out
  uint64_t end_;
  std::vector<uint8_t> buffer_;
  size_t buffered_ = 0;
  size_t used_ = 0;
  bool failed_ = false;
  uint32_t crc_ = 0;  // of every byte handed out
};

}  // namespace

std::string SnapshotFileName(uint64_t sequence) {
  std::string digits = std::to_string(sequence);
  return std::string(kPrefix) + std::string(kDigits - digits.size(), '0') + digits +
         std::string(kSuffix);
}

std::optional<uint64_t> ParseSnapshotFileName(std::string_view name) {
  if (name.size() != kPrefix.size() + kDigits + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(kPrefix.size(), kDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

storage::StorageResult<std::vector<std::string>> ListSnapshots(storage::Storage& storage) {
  auto names = storage.List();
  if (!names.ok()) return Err{names.error()};
  std::vector<std::string> out;
  for (const std::string& name : names.value()) {
    if (ParseSnapshotFileName(name)) out.push_back(name);
  }
  std::sort(out.rbegin(), out.rend());  // fixed-width digits: bytewise order is numeric
  return out;
}

storage::StorageResult<uint64_t> WriteSnapshot(
    storage::Storage& storage, SnapshotHeader header,
    const std::function<void(ledger::StateSink&)>& write_body) {
  const std::string name = SnapshotFileName(header.sequence);
  const std::string temp = name + std::string(storage::kTempSuffix);
  (void)storage.Remove(temp);  // a leftover from a crash mid-snapshot
  auto file = storage.Open(temp, storage::OpenMode::create_new);
  if (!file.ok()) return Err{file.error()};
  std::vector<uint8_t> placeholder(kSnapshotHeaderBytes, 0);
  if (auto s = file.value()->Append(placeholder); !s.ok()) return Err{s.error()};
  FileSink sink(*file.value());
  write_body(sink);
  sink.Flush();
  if (!sink.status().ok()) return Err{sink.status().error()};
  header.body_bytes = sink.total();
  header.body_crc = sink.crc();
  if (auto s = file.value()->Write(0, EncodeHeader(header)); !s.ok()) return Err{s.error()};
  if (auto s = file.value()->DataSync(); !s.ok()) return Err{s.error()};
  file.value().reset();
  if (auto s = storage.Rename(temp, name); !s.ok()) return Err{s.error()};
  if (auto s = storage.SyncDirectory(); !s.ok()) return Err{s.error()};
  return kSnapshotHeaderBytes + header.body_bytes;
}

Result<SnapshotHeader, std::string> ReadSnapshotHeader(storage::Storage& storage,
                                                       const std::string& name) {
  auto file = storage.Open(name, storage::OpenMode::read_only);
  if (!file.ok()) return Err{file.error().Message()};
  auto size = file.value()->Size();
  if (!size.ok()) return Err{size.error().Message()};
  std::vector<uint8_t> header_bytes(kSnapshotHeaderBytes);
  if (size.value() < kSnapshotHeaderBytes || !file.value()->ReadExact(0, header_bytes).ok()) {
    return Err{std::string("file shorter than a header")};
  }
  auto header = DecodeHeader(header_bytes);
  if (!header.ok()) return header;
  if (header.value().body_bytes != size.value() - kSnapshotHeaderBytes) {
    return Err{"body is " + std::to_string(size.value() - kSnapshotHeaderBytes) +
               " bytes, header says " + std::to_string(header.value().body_bytes)};
  }
  return header;
}

Result<SnapshotHeader, std::string> CheckSnapshot(storage::Storage& storage,
                                                  const std::string& name) {
  auto header = ReadSnapshotHeader(storage, name);
  if (!header.ok()) return header;
  auto file = storage.Open(name, storage::OpenMode::read_only);
  if (!file.ok()) return Err{file.error().Message()};
  const uint64_t end = kSnapshotHeaderBytes + header.value().body_bytes;
  std::vector<uint8_t> buffer(kBufferBytes);
  uint32_t crc = 0;
  for (uint64_t offset = kSnapshotHeaderBytes; offset < end;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBufferBytes, end - offset));
    std::span<uint8_t> chunk(buffer.data(), n);
    if (!file.value()->ReadExact(offset, chunk).ok()) return Err{std::string("read failed")};
    crc = journal::Crc32cExtend(crc, chunk);
    offset += n;
  }
  if (crc != header.value().body_crc) return Err{std::string("body checksum mismatch")};
  return header;
}

bool LoadSnapshot(storage::Storage& storage, const std::string& name,
                  const SnapshotHeader& header,
                  const std::function<bool(ledger::StateSource&)>& read_body, std::string& why) {
  auto file = storage.Open(name, storage::OpenMode::read_only);
  if (!file.ok()) {
    why = file.error().Message();
    return false;
  }
  FileSource source(*file.value(), kSnapshotHeaderBytes, header.body_bytes);
  const bool loaded = read_body(source);
  // The checksum decides first: a damaged body may well look "inconsistent" to read_body.
  if (!source.failed() && source.remaining() == 0 && source.crc() != header.body_crc) {
    why = "body checksum mismatch";
    return false;
  }
  if (!loaded) {
    // Say whether the file is damaged or merely foreign to this build.
    auto checked = CheckSnapshot(storage, name);
    why = checked.ok() ? "state sections are inconsistent or short" : checked.error();
    return false;
  }
  if (source.remaining() != 0) {
    why = std::to_string(source.remaining()) + " unexpected bytes after the state";
    return false;
  }
  return true;
}

void PruneSnapshots(storage::Storage& storage, uint32_t keep) {
  auto names = ListSnapshots(storage);
  if (!names.ok()) return;
  for (size_t i = keep; i < names.value().size(); ++i) (void)storage.Remove(names.value()[i]);
  // A crash in the middle of a snapshot leaves "<snapshot name>.tmp", which WriteSnapshot only
  // removes when it writes that same sequence again (rarely: sequences move on). Snapshots are
  // written one at a time and pruning runs after one is durable, so every temp file is stale.
  if (auto all = storage.List(); all.ok()) {
    for (const std::string& name : all.value()) {
      const std::string_view view(name);
      if (view.ends_with(storage::kTempSuffix) &&
          ParseSnapshotFileName(view.substr(0, view.size() - storage::kTempSuffix.size()))) {
        (void)storage.Remove(name);
      }
    }
  }
  (void)storage.SyncDirectory();
}

}  // namespace tpw::engine

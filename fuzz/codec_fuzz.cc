// The binary codec's reader (common/codec.h) driven by a small program: byte 0 says how many
// operation bytes follow (at most 32), the rest is the data they read. Every value read is
// written back with BinaryWriter; while the reader is ok, that must reproduce exactly the bytes
// it consumed. Once a read fails, the failure must stick: ok() false, remaining() 0, reads zero.
#include <algorithm>
#include <string>
#include <vector>

#include "common/codec.h"
#include "fuzz_check.h"

namespace {

constexpr size_t kOperationsMax = 32;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t op_count = std::min<size_t>(data[0] % (kOperationsMax + 1), size - 1);
  const std::span<const uint8_t> ops(data + 1, op_count);
  const std::span<const uint8_t> input(data + 1 + op_count, size - 1 - op_count);

  tpw::BinaryReader reader(input);
  tpw::BinaryWriter writer;
  for (const uint8_t op : ops) {
    const auto limit = static_cast<uint32_t>(op >> 3) * 4;  // 0..124 bytes for blobs
    switch (op % 7) {
      case 0:
        writer.U8(reader.U8());
        break;
      case 1:
        writer.U16(reader.U16());
        break;
      case 2:
        writer.U32(reader.U32());
        break;
      case 3:
        writer.U64(reader.U64());
        break;
      case 4:
        writer.U128(reader.U128());
        break;
      case 5: {
        const std::span<const uint8_t> blob = reader.Blob(limit);
        FUZZ_CHECK(blob.size() <= limit);
        if (reader.ok()) writer.Blob(blob);
        break;
      }
      default: {
        const std::string text = reader.String(limit);
        FUZZ_CHECK(text.size() <= limit);
        if (reader.ok()) writer.String(text);
        break;
      }
    }
    if (!reader.ok()) break;
  }
  if (reader.ok()) {
    FUZZ_CHECK(reader.offset() <= input.size());
    FUZZ_CHECK(reader.remaining() == input.size() - reader.offset());
    const std::span<const uint8_t> consumed = input.first(reader.offset());
    FUZZ_CHECK(std::equal(consumed.begin(), consumed.end(), writer.buffer().begin(),
                          writer.buffer().end()));
  } else {
    FUZZ_CHECK(reader.remaining() == 0 && !reader.AtEndOk());
    FUZZ_CHECK(reader.U64() == 0 && reader.U128() == 0 && reader.Bytes(0).empty());
    FUZZ_CHECK(!reader.ok());
  }
  return 0;
}

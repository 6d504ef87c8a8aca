#include "journal/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#include "common/assert.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace tpw::journal {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;
constexpr int kSlices = 8;

// tables[0] is the classic byte table; tables[k][b] is the CRC of byte b followed by k zeros,
// which lets the portable loop fold 8 bytes per step.
constexpr std::array<std::array<uint32_t, 256>, kSlices> MakeTables() {
  std::array<std::array<uint32_t, 256>, kSlices> tables{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomial : 0u);
    tables[0][b] = crc;
  }
  for (size_t k = 1; k < kSlices; ++k) {
    for (size_t b = 0; b < 256; ++b) {
      const uint32_t prev = tables[k - 1][b];
      tables[k][b] = (prev >> 8) ^ tables[0][prev & 0xffu];
    }
  }
  return tables;
}
constexpr auto kTables = MakeTables();

uint64_t LoadLittleEndian64(const uint8_t* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof(v));  // x86-64 and the other targets we build for are little-endian
  return v;
}
static_assert(std::endian::native == std::endian::little, "crc32c assumes little-endian loads");

using ExtendFn = uint32_t (*)(uint32_t, std::span<const uint8_t>);

ExtendFn ChooseImplementation() {
  return Crc32cHardwareAvailable() ? &Crc32cExtendHardware : &Crc32cExtendPortable;
}

}  // namespace

uint32_t Crc32cExtendPortable(uint32_t crc, std::span<const uint8_t> bytes) {
  uint32_t c = ~crc;
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    const uint64_t v = LoadLittleEndian64(p) ^ c;
    c = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^ kTables[5][(v >> 16) & 0xff] ^
        kTables[4][(v >> 24) & 0xff] ^ kTables[3][(v >> 32) & 0xff] ^ kTables[2][(v >> 40) & 0xff] ^
        kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = (c >> 8) ^ kTables[0][(c ^ *p) & 0xffu];
    ++p;
    --n;
  }
  return ~c;
}

#if defined(__x86_64__)
bool Crc32cHardwareAvailable() { return __builtin_cpu_supports("sse4.2"); }

__attribute__((target("sse4.2"))) uint32_t Crc32cExtendHardware(uint32_t crc,
                                                                std::span<const uint8_t> bytes) {
  uint64_t c = ~crc;
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  // One dependent chain of 8-byte steps runs at several GB/s: far faster than the disk, so the
  // three-stream interleave with PCLMUL recombination is not worth its complexity here.
  while (n >= 8) {
    c = _mm_crc32_u64(c, LoadLittleEndian64(p));
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = _mm_crc32_u8(c32, *p);
    ++p;
    --n;
  }
  return ~c32;
}
#else
bool Crc32cHardwareAvailable() { return false; }
uint32_t Crc32cExtendHardware(uint32_t, std::span<const uint8_t>) { TPW_UNREACHABLE(); }
#endif

uint32_t Crc32cExtend(uint32_t crc, std::span<const uint8_t> bytes) {
  static const ExtendFn implementation = ChooseImplementation();
  return implementation(crc, bytes);
}

uint32_t Crc32c(std::span<const uint8_t> bytes) { return Crc32cExtend(0, bytes); }

}  // namespace tpw::journal

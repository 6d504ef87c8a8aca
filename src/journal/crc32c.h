// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and LevelDB.
//
// Debian 12 packages no C/C++ crc32c library (only a Python module), so it is implemented here:
// the SSE4.2 `crc32` instruction when the CPU has it (checked once at run time, so one binary
// runs everywhere) and a portable slicing-by-8 table otherwise.
#pragma once

#include <cstdint>
#include <span>

namespace tpw::journal {

// CRC-32C of `bytes`.
uint32_t Crc32c(std::span<const uint8_t> bytes);
// CRC-32C of (the bytes that gave `crc`) followed by `bytes`: Crc32cExtend(Crc32c(a), b) ==
// Crc32c(a || b). Crc32cExtend(0, b) == Crc32c(b).
uint32_t Crc32cExtend(uint32_t crc, std::span<const uint8_t> bytes);

// The two implementations, exposed so tests can check they agree.
uint32_t Crc32cExtendPortable(uint32_t crc, std::span<const uint8_t> bytes);
bool Crc32cHardwareAvailable();
// Precondition: Crc32cHardwareAvailable().
uint32_t Crc32cExtendHardware(uint32_t crc, std::span<const uint8_t> bytes);

}  // namespace tpw::journal

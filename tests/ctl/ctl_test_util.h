#pragma once

// Small file helpers for the ctl tests.

#include <cstdint>
#include <string>

namespace dengine::test {

std::string read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::string& bytes);
// Flips every bit of the byte at `offset`.
void flip_byte(const std::string& path, uint64_t offset);

}  // namespace dengine::test

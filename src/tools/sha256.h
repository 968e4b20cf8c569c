#pragma once

// SHA-256 over bytes that arrive in pieces (OpenSSL's libcrypto). The saved snapshot file ends
// with one, as etcd's does: etcdctl's `snapshot save` looks for it by the file's size.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dengine::tools {

inline constexpr size_t kSha256Bytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256Bytes>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void add(std::string_view bytes);
  // The digest of everything added so far; adding more afterwards goes on from there.
  [[nodiscard]] Sha256Digest digest() const;

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// Lower-case hex, as sha256sum prints it.
std::string hex_digest(const Sha256Digest& digest);

}  // namespace dengine::tools

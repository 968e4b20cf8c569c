#include "tools/sha256.h"

#include <openssl/evp.h>

#include "common/check.h"

namespace dengine::tools {

struct Sha256::Context {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(md); }
};

// libcrypto fails these calls only when it cannot allocate or is broken; a digest that silently
// covered the wrong bytes would be worse than stopping.
Sha256::Sha256() : context_(std::make_unique<Context>()) {
  DENGINE_CHECK_MSG(context_->md != nullptr, "OpenSSL EVP_MD_CTX_new failed");
  DENGINE_CHECK_MSG(EVP_DigestInit_ex(context_->md, EVP_sha256(), nullptr) == 1,
                    "OpenSSL EVP_DigestInit_ex(SHA-256) failed");
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::add(std::string_view bytes) {
  DENGINE_CHECK_MSG(EVP_DigestUpdate(context_->md, bytes.data(), bytes.size()) == 1,
                    "OpenSSL EVP_DigestUpdate failed");
}

Sha256Digest Sha256::digest() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  DENGINE_CHECK_MSG(copy != nullptr && EVP_MD_CTX_copy_ex(copy, context_->md) == 1,
                    "OpenSSL EVP_MD_CTX_copy_ex failed");
  Sha256Digest digest{};
  unsigned int size = 0;
  const int finished = EVP_DigestFinal_ex(copy, digest.data(), &size);
  EVP_MD_CTX_free(copy);
  DENGINE_CHECK_MSG(finished == 1 && size == kSha256Bytes, "OpenSSL EVP_DigestFinal_ex failed");
  return digest;
}

std::string hex_digest(const Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(2 * digest.size());
  for (const uint8_t byte : digest) {
    text.push_back(kHex[byte >> 4]);
    text.push_back(kHex[byte & 0xf]);
  }
  return text;
}

}  // namespace dengine::tools

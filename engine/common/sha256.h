// SHA-256 through OpenSSL's EVP interface (Debian's libssl), used for the plan hash and for
// schedule checksums. Lowercase hex output.
#pragma once

#include <string>
#include <string_view>

namespace faultline {

// Incremental hasher for streams too large to hold (an arrival schedule).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // Returns the hex digest; the hasher must not be updated afterwards.
  std::string hex_digest();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL headers stay out of includers.
};

std::string sha256_hex(std::string_view bytes);

}  // namespace faultline

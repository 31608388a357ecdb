#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace dmc {

// Incremental SHA-256 (OpenSSL).
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, std::size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }
    std::string hex();  // finishes the digest

  private:
    void* ctx_;
};

std::string sha256_hex(std::string_view data);
// The 32 bytes of the digest.
std::array<std::uint8_t, 32> sha256_bytes(const void* data, std::size_t size);
std::string sha256_file(const std::filesystem::path& path);

}  // namespace dmc

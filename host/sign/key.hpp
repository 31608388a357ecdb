// ECDSA P-256 keys in PEM (OpenSSL): the private key that signs images and
// attestations, and the public key that checks them, in the forms cosign reads
// (PKCS#8 "PRIVATE KEY", SubjectPublicKeyInfo "PUBLIC KEY"). Signatures are ASN.1
// DER over the SHA-256 of the signed bytes.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace dmc::sign {

// Where keygen puts the public key of `private_key`: dmc.key -> dmc.pub, else FILE.pub.
std::filesystem::path public_key_file(const std::filesystem::path& private_key);

struct KeyPair {
    std::string private_pem, public_pem;
};
KeyPair generate_key_pair();

class PrivateKey {
  public:
    // `what` names the key in errors ("the signing key dmc.key"); its text never
    // appears in them. Throws Error for anything but an unencrypted EC P-256 key.
    static PrivateKey parse(const std::string& pem, const std::string& what);
    // The key --sign names: a PEM file, or env://VAR for one held in a variable.
    static PrivateKey load(const std::string& source);
    std::string sign(std::string_view data) const;  // DER
    std::string public_pem() const;

  private:
    std::shared_ptr<void> key_;  // EVP_PKEY
};

class PublicKey {
  public:
    static PublicKey parse(const std::string& pem, const std::string& what);
    // The public key in a PEM file (verify's --key).
    static PublicKey load(const std::filesystem::path& file);
    bool verify(std::string_view data, std::string_view der_signature) const;
    std::string pem() const;

  private:
    std::shared_ptr<void> key_;
};

}  // namespace dmc::sign

#include "sign/key.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>

#include "util/error.hpp"
#include "util/fs.hpp"

namespace dmc::sign {
namespace {

EVP_PKEY* raw(const std::shared_ptr<void>& key) { return static_cast<EVP_PKEY*>(key.get()); }
std::shared_ptr<void> own(EVP_PKEY* key) {
    return {key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); }};
}

std::string write_pem(EVP_PKEY* key, bool private_part) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    const int ok = private_part ? PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                                                nullptr, nullptr)
                                : PEM_write_bio_PUBKEY(bio.get(), key);
    if (ok != 1) throw Error("cannot write a key in PEM");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(n)};
}

// Only P-256: the curve cosign's keys use, and the one its verifier expects.
void check_curve(EVP_PKEY* key, const std::string& what) {
    char curve[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                       &len) != 1 ||
        std::string(curve) != "prime256v1")
        throw Error(what + " is not an ECDSA P-256 key; make one with dmc -a keygen --key FILE");
}

std::unique_ptr<BIO, decltype(&BIO_free)> reader(const std::string& pem) {
    return {BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free};
}

}  // namespace

std::filesystem::path public_key_file(const std::filesystem::path& private_key) {
    auto pub = private_key;
    if (pub.extension() == ".key") return pub.replace_extension(".pub");
    return pub += ".pub";
}

KeyPair generate_key_pair() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (key == nullptr) throw Error("cannot generate an ECDSA P-256 key");
    auto owned = own(key);
    return {write_pem(key, true), write_pem(key, false)};
}

PrivateKey PrivateKey::parse(const std::string& pem, const std::string& what) {
    if (pem.find("ENCRYPTED") != std::string::npos)
        throw Error(what + " is encrypted; dmc reads unencrypted PEM keys (dmc -a keygen)");
    auto bio = reader(pem);
    // An empty passphrase callback: an encrypted key fails instead of prompting.
    EVP_PKEY* key = PEM_read_bio_PrivateKey(
        bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
    if (key == nullptr)
        throw Error(what + " is not a PEM private key; make one with dmc -a keygen --key FILE");
    PrivateKey k;
    k.key_ = own(key);
    check_curve(key, what);
    return k;
}

PrivateKey PrivateKey::load(const std::string& source) {
    if (source.starts_with("env://")) {
        const std::string var = source.substr(6);
        const char* pem = std::getenv(var.c_str());
        if (pem == nullptr || *pem == '\0')
            throw Error("the signing key " + source + " is empty: the variable " + var +
                        " is not set; export the PEM key in it, or give --sign FILE");
        return parse(pem, "the signing key in " + var);
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(source, ec))
        throw Error("the signing key " + source +
                    " is not there; make one with dmc -a keygen --key " + source);
    return parse(read_file(source), "the signing key " + source);
}

std::string PrivateKey::sign(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, raw(key_)) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
        throw Error("cannot sign with the signing key");
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
        throw Error("cannot sign with the signing key");
    sig.resize(len);
    return sig;
}

std::string PrivateKey::public_pem() const { return write_pem(raw(key_), false); }

PublicKey PublicKey::parse(const std::string& pem, const std::string& what) {
    auto bio = reader(pem);
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    if (key == nullptr) throw Error(what + " is not a PEM public key (-----BEGIN PUBLIC KEY-----)");
    PublicKey k;
    k.key_ = own(key);
    check_curve(key, what);
    return k;
}

PublicKey PublicKey::load(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        throw Error("the public key " + file.string() + " is not there; give --key PUB");
    return parse(read_file(file), "the public key " + file.string());
}

bool PublicKey::verify(std::string_view data, std::string_view der_signature) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, raw(key_)) != 1)
        return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der_signature.data()),
                            der_signature.size(),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

std::string PublicKey::pem() const { return write_pem(raw(key_), false); }

}  // namespace dmc::sign

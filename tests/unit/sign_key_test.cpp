#include <gtest/gtest.h>
#include <stdlib.h>  // setenv

#include "sign/key.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using namespace dmc;

TEST(SignKey, AGeneratedPairSignsAndVerifies) {
    const auto pair = sign::generate_key_pair();
    EXPECT_NE(pair.private_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    EXPECT_NE(pair.public_pem.find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
    const auto key = sign::PrivateKey::parse(pair.private_pem, "k");
    const auto pub = sign::PublicKey::parse(pair.public_pem, "p");
    EXPECT_EQ(key.public_pem(), pair.public_pem);
    const std::string sig = key.sign("payload");
    EXPECT_EQ(static_cast<unsigned char>(sig[0]), 0x30);  // an ASN.1 DER SEQUENCE
    EXPECT_TRUE(pub.verify("payload", sig));
    EXPECT_FALSE(pub.verify("payloaD", sig));
    std::string bad = sig;
    bad[bad.size() - 1] = static_cast<char>(bad.back() ^ 1);
    EXPECT_FALSE(pub.verify("payload", bad));
    EXPECT_FALSE(pub.verify("payload", ""));
}

TEST(SignKey, AnotherKeysSignatureDoesNotVerify) {
    const auto a = sign::generate_key_pair();
    const auto b = sign::generate_key_pair();
    const auto sig = sign::PrivateKey::parse(a.private_pem, "a").sign("x");
    EXPECT_FALSE(sign::PublicKey::parse(b.public_pem, "b").verify("x", sig));
}

TEST(SignKey, RefusesWhatIsNotAnUnencryptedP256KeyWithoutShowingIt) {
    auto message = [](const std::string& pem, bool is_private) {
        try {
            if (is_private)
                (void)sign::PrivateKey::parse(pem, "the signing key k.pem");
            else
                (void)sign::PublicKey::parse(pem, "the public key k.pub");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_EQ(message("secret garbage", true),
              "the signing key k.pem is not a PEM private key; make one with dmc -a keygen --key "
              "FILE");
    EXPECT_EQ(message("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n", true),
              "the signing key k.pem is encrypted; dmc reads unencrypted PEM keys (dmc -a keygen)");
    const auto pair = sign::generate_key_pair();
    EXPECT_NE(message(pair.public_pem, true).find("is not a PEM private key"), std::string::npos);
    EXPECT_NE(message(pair.private_pem, false).find("is not a PEM public key"), std::string::npos);
    // A P-384 key: not what cosign's keys are.
    const std::string p384 =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCCX34SBHPTm7E2U2/a\n"
        "mTuiq8L3FZ7tHtL2vwoO0JBzfrg/pAVIFuckVElexumdInChZANiAATphjslNfTx\n"
        "hSJR7kyiOQonOtg71Bf97LZ6BJHjunc28Bqt4zC5MeLqyMMb4SVmfu+cnQ5XETdf\n"
        "E+2Wk7amtGF5Y7ajpAYH2vQaZBhdqcmfc9L8I+8IpcpguxR8Oy0GZmA=\n"
        "-----END PRIVATE KEY-----\n";
    EXPECT_EQ(message(p384, true),
              "the signing key k.pem is not an ECDSA P-256 key; make one with dmc -a keygen --key "
              "FILE");
    EXPECT_EQ(message("", true).find("secret"), std::string::npos);
}

TEST(SignKey, LoadsFromAFileOrAnEnvironmentVariable) {
    const fs::path dir = fs::temp_directory_path() / ("dmc-key-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto pair = sign::generate_key_pair();
    write_file_atomic(dir / "dmc.key", pair.private_pem, 0600);
    EXPECT_EQ(sign::PrivateKey::load((dir / "dmc.key").string()).public_pem(), pair.public_pem);
    ::setenv("DMC_TEST_SIGNING_KEY", pair.private_pem.c_str(), 1);
    EXPECT_EQ(sign::PrivateKey::load("env://DMC_TEST_SIGNING_KEY").public_pem(), pair.public_pem);
    ::unsetenv("DMC_TEST_SIGNING_KEY");
    try {
        (void)sign::PrivateKey::load("env://DMC_TEST_SIGNING_KEY");
        ADD_FAILURE() << "an unset variable was taken";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "the signing key env://DMC_TEST_SIGNING_KEY is empty: the variable "
                     "DMC_TEST_SIGNING_KEY is not set; export the PEM key in it, or give --sign "
                     "FILE");
    }
    EXPECT_THROW((void)sign::PrivateKey::load((dir / "none.key").string()), Error);
    fs::remove_all(dir);
}

TEST(SignKey, ThePublicKeyGoesNextToThePrivateOne) {
    EXPECT_EQ(sign::public_key_file("keys/dmc.key"), "keys/dmc.pub");
    EXPECT_EQ(sign::public_key_file("signing.pem"), "signing.pem.pub");
}

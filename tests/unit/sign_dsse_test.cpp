#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sign/dsse.hpp"
#include "util/base64.hpp"

using namespace dmc;
using nlohmann::json;

TEST(SignDsse, PreAuthenticationEncodingIsTheSpecsExample) {
    // The example of the DSSE protocol document.
    EXPECT_EQ(sign::pae("http://example.com/HelloWorld", "hello world"),
              "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    EXPECT_EQ(sign::pae("", ""), "DSSEv1 0  0 ");
}

TEST(SignDsse, AnEnvelopeOpensWithItsKeyOnly) {
    const auto pair = sign::generate_key_pair();
    const auto key = sign::PrivateKey::parse(pair.private_pem, "k");
    const auto pub = sign::PublicKey::parse(pair.public_pem, "p");
    const std::string body = R"({"_type":"https://in-toto.io/Statement/v1"})";
    const std::string env = sign::envelope(sign::in_toto_payload_type, body, key);
    const json e = json::parse(env);
    EXPECT_EQ(e["payloadType"], "application/vnd.in-toto+json");
    EXPECT_EQ(*base64_decode(e["payload"].get<std::string>()), body);
    ASSERT_EQ(e["signatures"].size(), 1U);
    // The signature covers PAE(type, body), not the body alone.
    const auto sig = base64_decode(e["signatures"][0]["sig"].get<std::string>());
    EXPECT_TRUE(pub.verify(sign::pae(sign::in_toto_payload_type, body), *sig));
    EXPECT_FALSE(pub.verify(body, *sig));

    EXPECT_EQ(sign::open_envelope(env, sign::in_toto_payload_type, pub), body);
    EXPECT_FALSE(sign::open_envelope(env, "text/plain", pub));
    const auto other = sign::generate_key_pair();
    EXPECT_FALSE(sign::open_envelope(env, sign::in_toto_payload_type,
                                     sign::PublicKey::parse(other.public_pem, "o")));
    json tampered = e;
    tampered["payload"] = base64_encode(R"({"_type":"other"})");
    EXPECT_FALSE(sign::open_envelope(tampered.dump(), sign::in_toto_payload_type, pub));
    EXPECT_FALSE(sign::open_envelope("not json", sign::in_toto_payload_type, pub));
    EXPECT_FALSE(sign::open_envelope("[]", sign::in_toto_payload_type, pub));
}

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "image/layout_reader.hpp"
#include "sign/cosign.hpp"
#include "sign/statement.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using namespace dmc;
using nlohmann::json;

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(SignCosign, TheSimpleSigningPayloadIsCosigns) {
    EXPECT_EQ(
        sign::simple_signing_payload("reg:5000/nginx", kDigest),
        R"({"critical":{"identity":{"docker-reference":"reg:5000/nginx"},"image":{"docker-manifest-digest":")" +
            kDigest + R"("},"type":"cosign container image signature"},"optional":null})");
    EXPECT_EQ(sign::signed_digest(sign::simple_signing_payload("r", kDigest)), kDigest);
    EXPECT_EQ(sign::signed_digest(R"({"critical":{"image":{"docker-manifest-digest":"x"}}})"), "");
    EXPECT_EQ(sign::signed_digest("garbage"), "");
}

TEST(SignCosign, AttachmentsAreTaggedAfterTheDigest) {
    EXPECT_EQ(sign::attachment_tag(kDigest, sign::signature_suffix),
              "sha256-" + std::string(64, 'a') + ".sig");
    EXPECT_EQ(sign::attachment_tag(kDigest, sign::attestation_suffix),
              "sha256-" + std::string(64, 'a') + ".att");
    EXPECT_THROW((void)sign::attachment_tag("latest", ".sig"), Error);
}

TEST(SignCosign, AnAttachmentImageHasALayerPerSignature) {
    const fs::path layout = fs::temp_directory_path() / ("dmc-att-" + std::to_string(::getpid()));
    const auto d = sign::write_attachments(
        layout, {{std::string(sign::simple_signing_media_type),
                  "payload",
                  {{std::string(sign::signature_annotation), "c2ln"}}},
                 {std::string(sign::dsse_media_type), "{}", {{"predicateType", "t"}}}});
    EXPECT_EQ(d.media_type, image::media_type_image_manifest);
    const json m = json::parse(image::read_document(layout, d.digest));
    ASSERT_EQ(m["layers"].size(), 2U);
    EXPECT_EQ(m["layers"][0]["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
    EXPECT_EQ(m["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"], "c2ln");
    EXPECT_EQ(read_file(image::blob_path(layout, m["layers"][0]["digest"].get<std::string>())),
              "payload");
    EXPECT_EQ(m["layers"][1]["mediaType"], "application/vnd.dsse.envelope.v1+json");
    const json config =
        json::parse(read_file(image::blob_path(layout, m["config"]["digest"].get<std::string>())));
    EXPECT_EQ(config["rootfs"]["diff_ids"][0], m["layers"][0]["digest"]);
    // The same attachments, the same image.
    EXPECT_EQ(sign::write_attachments(
                  layout, {{std::string(sign::simple_signing_media_type),
                            "payload",
                            {{std::string(sign::signature_annotation), "c2ln"}}},
                           {std::string(sign::dsse_media_type), "{}", {{"predicateType", "t"}}}})
                  .digest,
              d.digest);
    fs::remove_all(layout);
}

TEST(SignStatement, AStatementNamesItsSubjectsByDigest) {
    const std::string s = sign::statement({{"reg/nginx", kDigest}}, sign::spdx_document,
                                          json{{"spdxVersion", "SPDX-2.3"}});
    const json j = json::parse(s);
    EXPECT_EQ(j["_type"], "https://in-toto.io/Statement/v1");
    EXPECT_EQ(j["subject"][0]["name"], "reg/nginx");
    EXPECT_EQ(j["subject"][0]["digest"]["sha256"], std::string(64, 'a'));
    EXPECT_EQ(j["predicateType"], "https://spdx.dev/Document");
    EXPECT_EQ(j["predicate"]["spdxVersion"], "SPDX-2.3");
}

TEST(SignStatement, TheProvenanceListsEachDependencyOnceInOneOrder) {
    sign::Provenance p;
    p.dmc_version = "1.2";
    p.external_parameters = {{"template", "nginx"}};
    p.materials = {{"http://m/pool/b.deb", "b_1_amd64", std::string(64, 'b'), {}},
                   {"http://m/dists/trixie/InRelease", "", std::string(64, 'c'), {{"date", "d"}}},
                   {"http://m/pool/b.deb", "b_1_amd64", std::string(64, 'b'), {}}};
    const json j = sign::slsa_predicate(p);
    const auto& deps = j["buildDefinition"]["resolvedDependencies"];
    ASSERT_EQ(deps.size(), 2U);
    EXPECT_EQ(deps[0]["uri"], "http://m/dists/trixie/InRelease");
    EXPECT_EQ(deps[0]["annotations"]["date"], "d");
    EXPECT_EQ(deps[1]["name"], "b_1_amd64");
    EXPECT_EQ(deps[1]["digest"]["sha256"], std::string(64, 'b'));
    EXPECT_EQ(j["buildDefinition"]["buildType"], sign::dmc_build_type);
    EXPECT_EQ(j["buildDefinition"]["externalParameters"]["template"], "nginx");
    EXPECT_EQ(j["runDetails"]["builder"]["id"], sign::dmc_builder_id);
    EXPECT_EQ(j["runDetails"]["builder"]["version"]["dmc"], "1.2");
    std::reverse(p.materials.begin(), p.materials.end());
    EXPECT_EQ(sign::slsa_predicate(p).dump(), j.dump());
}

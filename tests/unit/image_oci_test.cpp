#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "image/docker_archive.hpp"
#include "image/layer.hpp"
#include "image/oci.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace dmc::image;

namespace {

constexpr std::int64_t epoch = 1700000000;

bool have_tool(const std::string& tool) {
    return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

struct CommandResult {
    int status = -1;
    std::string output;
};

// Runs a shell command; stderr goes with stdout unless the command redirects it.
CommandResult run(const std::string& command) {
    CommandResult result;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return result;
    std::array<char, 4096> buffer{};
    std::size_t got = 0;
    while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
        result.output.append(buffer.data(), got);
    result.status = ::pclose(pipe);
    return result;
}

// Like run() but keeps stderr out of the output, for JSON-producing tools.
CommandResult run_json(const std::string& command, const fs::path& scratch) {
    const fs::path errors = scratch / "stderr.txt";
    CommandResult result = run(command + " 2>" + errors.string());
    if (result.status != 0 && fs::exists(errors)) result.output += dmc::read_file(errors);
    return result;
}

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

ImageConfig nginx_config(const std::string& architecture = "amd64",
                         const std::string& variant = "") {
    ImageConfig config;
    config.architecture = architecture;
    config.variant = variant;
    config.created = epoch;
    config.entrypoint = {"/usr/sbin/nginx"};
    config.cmd = {"-g", "daemon off;"};
    config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "NGINX_VERSION=1.22.1"};
    config.user = "33:33";
    config.working_dir = "/var/www";
    config.exposed_ports = {"80/tcp", "443/tcp"};
    config.volumes = {"/var/cache/nginx"};
    config.labels = {{"org.opencontainers.image.title", "nginx"}, {"maintainer", "dmc"}};
    config.stop_signal = "SIGQUIT";
    return config;
}

LayerInfo nginx_layer(const fs::path& directory, const std::string& marker = "amd64",
                      Compression compression = Compression::gzip) {
    LayerSpec spec;
    spec.mtime = epoch;
    spec.compression = compression;
    using T = LayerEntry::Type;
    spec.entries = {
        {"/usr/sbin/nginx", T::file, 0755, 0, 0, {}, "#!/bin/sh\necho " + marker + "\n", ""},
        {"/etc/nginx/nginx.conf", T::file, 0644, 0, 0, {}, "worker_processes 1;\n", ""},
        {"/var/www", T::dir, 0755, 33, 33, {}, "", ""},
        {"/var/cache/nginx", T::dir, 0700, 33, 33, {}, "", ""},
        {"/usr/bin/sudo", T::file, 04755, 0, 0, {}, "sudo", ""},
        {"/usr/bin/sudoedit", T::symlink, 0777, 0, 0, {}, "", "sudo"},
        {"/usr/bin/perl", T::hardlink, 0, 0, 0, {}, "", "/usr/bin/perl5.36.0"},
        {"/usr/bin/perl5.36.0", T::file, 0755, 0, 0, {}, "perl", ""},
        {"/usr/share/doc/" + std::string(130, 'x') + "/copyright",
         T::file,
         0644,
         0,
         0,
         {},
         "long",
         ""},
        {"/usr/share/caf\xc3\xa9", T::file, 0644, 0, 0, {}, "utf8", ""},
    };
    return write_layer(spec, directory / ("layer-" + marker));
}

std::set<std::string> keys_of(const json& object) {
    std::set<std::string> keys;
    for (const auto& [key, value] : object.items()) keys.insert(key);
    return keys;
}

std::set<std::string> blobs_in(const fs::path& layout) {
    std::set<std::string> blobs;
    for (const auto& entry : fs::directory_iterator(layout / "blobs" / "sha256"))
        blobs.insert(entry.path().filename().string());
    return blobs;
}

struct ArchiveEntry {
    std::string name;
    unsigned mode = 0;
    std::int64_t mtime = 0;
    std::string content;
};

std::vector<ArchiveEntry> read_archive(const fs::path& path) {
    archive* reader = archive_read_new();
    archive_read_support_format_tar(reader);
    std::vector<ArchiveEntry> entries;
    if (archive_read_open_filename(reader, path.c_str(), 65536) == ARCHIVE_OK) {
        archive_entry* entry = nullptr;
        while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
            ArchiveEntry read{archive_entry_pathname(entry), archive_entry_perm(entry),
                              archive_entry_mtime(entry), ""};
            char buffer[65536];
            la_ssize_t got = 0;
            while ((got = archive_read_data(reader, buffer, sizeof buffer)) > 0)
                read.content.append(buffer, static_cast<std::size_t>(got));
            entries.push_back(std::move(read));
        }
    }
    archive_read_free(reader);
    return entries;
}

}  // namespace

TEST(ImageOci, Rfc3339) {
    EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(rfc3339_utc(epoch), "2023-11-14T22:13:20Z");
}

TEST(ImageOci, ConfigHasExactlyTheFieldsSet) {
    const std::string text = config_json(nginx_config(), {"sha256:" + std::string(64, 'a')});
    const json config = json::parse(text);
    EXPECT_EQ(keys_of(config), (std::set<std::string>{"architecture", "config", "created",
                                                      "history", "os", "rootfs"}));
    EXPECT_EQ(config["architecture"], "amd64");
    EXPECT_EQ(config["os"], "linux");
    EXPECT_EQ(config["created"], "2023-11-14T22:13:20Z");
    EXPECT_EQ(config["rootfs"], json::parse(R"({"type":"layers","diff_ids":["sha256:)" +
                                            std::string(64, 'a') + R"("]})"));
    EXPECT_EQ(config["history"],
              json::parse(R"([{"created":"2023-11-14T22:13:20Z","created_by":"dmc"}])"));

    const json& runtime = config["config"];
    EXPECT_EQ(keys_of(runtime),
              (std::set<std::string>{"Entrypoint", "Cmd", "Env", "User", "WorkingDir",
                                     "ExposedPorts", "Volumes", "Labels", "StopSignal"}));
    EXPECT_EQ(runtime["Entrypoint"], json::parse(R"(["/usr/sbin/nginx"])"));
    EXPECT_EQ(runtime["Cmd"], json::parse(R"(["-g","daemon off;"])"));
    EXPECT_EQ(runtime["Env"][0],
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    EXPECT_EQ(runtime["Env"][1], "NGINX_VERSION=1.22.1");  // order kept
    EXPECT_EQ(runtime["User"], "33:33");
    EXPECT_EQ(runtime["WorkingDir"], "/var/www");
    EXPECT_EQ(runtime["ExposedPorts"], json::parse(R"({"80/tcp":{},"443/tcp":{}})"));
    EXPECT_EQ(runtime["Volumes"], json::parse(R"({"/var/cache/nginx":{}})"));
    EXPECT_EQ(runtime["Labels"],
              json::parse(R"({"maintainer":"dmc","org.opencontainers.image.title":"nginx"})"));
    EXPECT_EQ(runtime["StopSignal"], "SIGQUIT");

    // Canonical: compact with sorted keys, so parsing and dumping gives it back.
    EXPECT_EQ(config.dump(), text);
    EXPECT_EQ(text.find('\n'), std::string::npos);
    EXPECT_EQ(text.find(": "), std::string::npos);
}

TEST(ImageOci, ConfigLeavesOutWhatIsNotSet) {
    ImageConfig config;
    config.architecture = "arm64";
    config.variant = "v8";
    config.cmd = {"/bin/sh"};
    const json document = json::parse(config_json(config, {}));
    EXPECT_EQ(document["config"], json::parse(R"({"Cmd":["/bin/sh"]})"));
    EXPECT_EQ(document["variant"], "v8");
    EXPECT_EQ(document["created"], "1970-01-01T00:00:00Z");
    EXPECT_EQ(document["rootfs"]["diff_ids"], json::array());

    ImageConfig empty;
    empty.architecture = "riscv64";
    const json bare = json::parse(config_json(empty, {}));
    EXPECT_EQ(bare["config"], json::object());
    EXPECT_FALSE(bare.contains("variant"));
}

TEST(ImageOci, ConfigRefusesInvalidValues) {
    const std::vector<std::string> none;
    auto refused = [&](auto change) {
        ImageConfig config = nginx_config();
        change(config);
        EXPECT_THROW(config_json(config, none), dmc::Error);
    };
    refused([](ImageConfig& c) { c.architecture = "x86_64"; });
    refused([](ImageConfig& c) { c.architecture = ""; });
    refused([](ImageConfig& c) { c.variant = "v8"; });  // amd64
    refused([](ImageConfig& c) { c.env.push_back("NOEQUALS"); });
    refused([](ImageConfig& c) { c.env.push_back("=value"); });
    refused([](ImageConfig& c) { c.working_dir = "relative"; });
    refused([](ImageConfig& c) { c.volumes.insert("data"); });
    refused([](ImageConfig& c) { c.exposed_ports.insert("http"); });
    refused([](ImageConfig& c) { c.exposed_ports.insert("70000/tcp"); });
    refused([](ImageConfig& c) { c.exposed_ports.insert("80/icmp"); });
    refused([](ImageConfig& c) { c.created = -1; });
    refused([](ImageConfig& c) { c.labels["bad"] = "\xff\xfe"; });  // not UTF-8
    EXPECT_THROW(config_json(nginx_config(), {"md5:abc"}), dmc::Error);
    ImageConfig arm = nginx_config("arm", "v7");
    EXPECT_NO_THROW(config_json(arm, none));
    ImageConfig port = nginx_config();
    port.exposed_ports = {"8080", "53/udp", "9/sctp"};
    EXPECT_NO_THROW(config_json(port, none));
}

TEST(ImageOci, ManifestAndIndexDocuments) {
    const Descriptor config{std::string(media_type_image_config),
                            "sha256:" + std::string(64, 'c'),
                            123,
                            std::nullopt,
                            {}};
    const Descriptor layer{"application/vnd.oci.image.layer.v1.tar+zstd",
                           "sha256:" + std::string(64, 'd'),
                           456,
                           std::nullopt,
                           {}};
    const std::string manifest = manifest_json(config, {layer});
    EXPECT_EQ(manifest,
              R"({"config":{"digest":"sha256:)" + std::string(64, 'c') +
                  R"(","mediaType":"application/vnd.oci.image.config.v1+json","size":123},)"
                  R"("layers":[{"digest":"sha256:)" +
                  std::string(64, 'd') +
                  R"(","mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","size":456}],)"
                  R"("mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2})");

    Descriptor amd64{std::string(media_type_image_manifest),
                     "sha256:" + std::string(64, '1'),
                     7,
                     Platform{"amd64", "linux", ""},
                     {}};
    Descriptor arm64{std::string(media_type_image_manifest),
                     "sha256:" + std::string(64, '2'),
                     8,
                     Platform{"arm64", "linux", "v8"},
                     {}};
    const json index = json::parse(index_json({amd64, arm64}));
    EXPECT_EQ(index["schemaVersion"], 2);
    EXPECT_EQ(index["mediaType"], media_type_image_index);
    ASSERT_EQ(index["manifests"].size(), 2u);
    EXPECT_EQ(index["manifests"][0]["platform"],
              json::parse(R"({"architecture":"amd64","os":"linux"})"));
    EXPECT_EQ(index["manifests"][1]["platform"]["variant"], "v8");
    EXPECT_THROW(manifest_json(Descriptor{"x", "sha256:short", 1, std::nullopt, {}}, {}),
                 dmc::Error);
}

TEST(ImageOci, BlobsAreContentAddressedAndWrittenOnce) {
    dmc::TempDir temp("dmc-oci");
    const fs::path layout = temp.path() / "layout";
    const Descriptor blob = write_blob(layout, "text/plain", "hello");
    EXPECT_EQ(blob.digest, "sha256:" + dmc::sha256_hex("hello"));
    EXPECT_EQ(blob.size, 5u);
    const fs::path path = blob_path(layout, blob.digest);
    EXPECT_EQ(dmc::read_file(path), "hello");
    const auto written = fs::last_write_time(path);
    fs::last_write_time(path, written - std::chrono::hours(1));
    write_blob(layout, "text/plain", "hello");
    EXPECT_EQ(fs::last_write_time(path), written - std::chrono::hours(1));  // not rewritten
    EXPECT_THROW(blob_path(layout, "sha256:../../etc/passwd"), dmc::Error);
    EXPECT_THROW(blob_path(layout, "sha256:" + std::string(64, 'A')), dmc::Error);
}

TEST(ImageOci, LayoutIsDeterministic) {
    dmc::TempDir first("dmc-oci-a");
    dmc::TempDir second("dmc-oci-second");
    for (const fs::path& base : {first.path(), second.path()}) {
        const LayerInfo layer = nginx_layer(base);
        const Descriptor manifest = write_image(base / "layout", nginx_config(), {layer});
        write_layout_index(base / "layout", {{"latest", manifest}});
    }
    for (const char* file : {"index.json", "oci-layout"})
        EXPECT_EQ(dmc::read_file(first.path() / "layout" / file),
                  dmc::read_file(second.path() / "layout" / file));
    EXPECT_EQ(blobs_in(first.path() / "layout"), blobs_in(second.path() / "layout"));
    EXPECT_EQ(blobs_in(first.path() / "layout").size(), 3u);  // layer, config, manifest
    const json index = json::parse(dmc::read_file(first.path() / "layout" / "index.json"));
    EXPECT_EQ(index["manifests"][0]["annotations"][std::string(ref_name_annotation)], "latest");
    EXPECT_EQ(dmc::read_file(first.path() / "layout" / "oci-layout"),
              R"({"imageLayoutVersion":"1.0.0"})");
}

TEST(ImageOci, StoredLayerIsLinkedOrCopiedAndChecked) {
    dmc::TempDir temp("dmc-oci");
    const LayerInfo layer = nginx_layer(temp.path());
    const Descriptor stored = store_layer(temp.path() / "layout", layer);
    EXPECT_EQ(stored.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    EXPECT_EQ(stored.digest, layer.digest);
    EXPECT_EQ(stored.size, layer.size);
    struct stat source {};
    struct stat blob {};
    ASSERT_EQ(::stat(layer.path.c_str(), &source), 0);
    ASSERT_EQ(::stat(blob_path(temp.path() / "layout", layer.digest).c_str(), &blob), 0);
    EXPECT_EQ(source.st_ino, blob.st_ino);  // same filesystem: a hard link

    LayerInfo wrong = layer;
    wrong.size += 1;
    EXPECT_THROW(store_layer(temp.path() / "other", wrong), dmc::Error);

    // Across filesystems the layer is copied and its digest checked.
    struct stat shm {};
    if (::stat("/dev/shm", &shm) != 0 || shm.st_dev == source.st_dev || ::access("/dev/shm", W_OK))
        GTEST_SKIP() << "no second writable filesystem at /dev/shm";
    std::string shm_template = "/dev/shm/dmc-oci-XXXXXX";
    ASSERT_NE(::mkdtemp(shm_template.data()), nullptr);
    const fs::path shm_layout = shm_template;
    struct Cleanup {
        fs::path path;
        ~Cleanup() { fs::remove_all(path); }
    } cleanup{shm_layout};
    const Descriptor copied = store_layer(shm_layout, layer);
    EXPECT_EQ(dmc::sha256_file(blob_path(shm_layout, copied.digest)), layer.digest.substr(7));
    LayerInfo corrupt = layer;
    corrupt.digest = "sha256:" + std::string(64, 'e');
    EXPECT_THROW(store_layer(shm_layout, corrupt), dmc::Error);
    EXPECT_FALSE(fs::exists(blob_path(shm_layout, corrupt.digest)));
}

TEST(ImageOci, RewritingTheLayoutReplacesTheIndexAndDropsOldBlobs) {
    dmc::TempDir temp("dmc-oci");
    const fs::path layout = temp.path() / "layout";
    const Descriptor old_image =
        write_image(layout, nginx_config(), {nginx_layer(temp.path(), "old")});
    write_layout_index(layout, {{"latest", old_image}});
    const auto old_blobs = blobs_in(layout);

    const Descriptor new_image =
        write_image(layout, nginx_config(), {nginx_layer(temp.path(), "new")});
    write_layout_index(layout, {{"latest", new_image}}, UnreferencedBlobs::keep);
    EXPECT_EQ(blobs_in(layout).size(), 6u);
    const json index = json::parse(dmc::read_file(layout / "index.json"));
    ASSERT_EQ(index["manifests"].size(), 1u);
    EXPECT_EQ(index["manifests"][0]["digest"], new_image.digest);

    // Two refs: both images are kept.
    write_layout_index(layout, {{"latest", new_image}, {"previous", old_image}});
    EXPECT_EQ(blobs_in(layout).size(), 6u);

    write_layout_index(layout, {{"latest", new_image}});
    EXPECT_EQ(blobs_in(layout).size(), 3u);
    for (const std::string& blob : blobs_in(layout)) EXPECT_FALSE(old_blobs.count(blob)) << blob;
    // No temporary files left beside index.json.
    std::set<std::string> top;
    for (const auto& entry : fs::directory_iterator(layout))
        top.insert(entry.path().filename().string());
    EXPECT_EQ(top, (std::set<std::string>{"blobs", "index.json", "oci-layout"}));

    EXPECT_THROW(write_layout_index(layout, {{"bad tag", new_image}}), dmc::Error);
    Descriptor missing = new_image;
    missing.digest = "sha256:" + std::string(64, '0');
    EXPECT_THROW(write_layout_index(layout, {{"latest", missing}}), dmc::Error);
}

TEST(ImageOci, UmociUnpacksTheLayout) {
    if (!have_tool("umoci")) GTEST_SKIP() << "umoci is not installed";
    dmc::TempDir temp("dmc-oci");
    const fs::path layout = temp.path() / "nginx";
    const Descriptor manifest = write_image(layout, nginx_config(), {nginx_layer(temp.path())});
    write_layout_index(layout, {{"latest", manifest}});

    const fs::path bundle = temp.path() / "bundle";
    const CommandResult unpack =
        run("umoci unpack --rootless --image " + quoted(layout) + ":latest " + quoted(bundle));
    ASSERT_EQ(unpack.status, 0) << unpack.output;
    const fs::path rootfs = bundle / "rootfs";
    EXPECT_EQ(dmc::read_file(rootfs / "usr/sbin/nginx"), "#!/bin/sh\necho amd64\n");
    EXPECT_EQ(dmc::read_file(rootfs / "usr/share/caf\xc3\xa9"), "utf8");
    EXPECT_EQ(dmc::read_file(rootfs / ("usr/share/doc/" + std::string(130, 'x') + "/copyright")),
              "long");
    EXPECT_EQ(fs::read_symlink(rootfs / "usr/bin/sudoedit"), "sudo");
    struct stat perl {};
    struct stat perl536 {};
    ASSERT_EQ(::lstat((rootfs / "usr/bin/perl").c_str(), &perl), 0);
    ASSERT_EQ(::lstat((rootfs / "usr/bin/perl5.36.0").c_str(), &perl536), 0);
    EXPECT_EQ(perl.st_ino, perl536.st_ino);
    struct stat sudo {};
    ASSERT_EQ(::lstat((rootfs / "usr/bin/sudo").c_str(), &sudo), 0);
    EXPECT_EQ(sudo.st_mode & 07777, 04755u);

    const json runtime = json::parse(dmc::read_file(bundle / "config.json"));
    EXPECT_EQ(runtime["process"]["args"], json::parse(R"(["/usr/sbin/nginx","-g","daemon off;"])"));
    EXPECT_EQ(runtime["process"]["cwd"], "/var/www");
    const auto& env = runtime["process"]["env"];
    EXPECT_NE(std::find(env.begin(), env.end(), "NGINX_VERSION=1.22.1"), env.end());
}

TEST(ImageOci, SkopeoReadsManifestAndConfig) {
    if (!have_tool("skopeo")) GTEST_SKIP() << "skopeo is not installed";
    dmc::TempDir temp("dmc-oci");
    const fs::path layout = temp.path() / "nginx";
    const LayerInfo layer = nginx_layer(temp.path());
    const Descriptor manifest = write_image(layout, nginx_config(), {layer});
    write_layout_index(layout, {{"latest", manifest}});
    const std::string reference = "oci:" + quoted(layout) + ":latest";

    const CommandResult raw = run_json("skopeo inspect --raw " + reference, temp.path());
    ASSERT_EQ(raw.status, 0) << raw.output;
    EXPECT_EQ(raw.output, dmc::read_file(blob_path(layout, manifest.digest)));

    const CommandResult raw_config =
        run_json("skopeo inspect --config --raw " + reference, temp.path());
    ASSERT_EQ(raw_config.status, 0) << raw_config.output;
    EXPECT_EQ(raw_config.output, config_json(nginx_config(), {layer.diff_id}));

    const CommandResult inspect = run_json("skopeo inspect " + reference, temp.path());
    ASSERT_EQ(inspect.status, 0) << inspect.output;
    const json info = json::parse(inspect.output);
    EXPECT_EQ(info["Digest"], manifest.digest);
    EXPECT_EQ(info["Architecture"], "amd64");
    EXPECT_EQ(info["Os"], "linux");
    EXPECT_EQ(info["Created"], "2023-11-14T22:13:20Z");
    EXPECT_EQ(info["Layers"], json::array({layer.digest}));
    EXPECT_EQ(info["Labels"]["org.opencontainers.image.title"], "nginx");
    EXPECT_EQ(info["Env"][1], "NGINX_VERSION=1.22.1");
}

TEST(ImageOci, SkopeoCopiesGzipAndZstdLayoutsVerifyingDigests) {
    if (!have_tool("skopeo")) GTEST_SKIP() << "skopeo is not installed";
    dmc::TempDir temp("dmc-oci");
    for (Compression compression : {Compression::gzip, Compression::zstd}) {
        const std::string name(compression_name(compression));
        const fs::path layout = temp.path() / ("layout-" + name);
        const Descriptor manifest =
            write_image(layout, nginx_config(), {nginx_layer(temp.path(), name, compression)});
        write_layout_index(layout, {{"latest", manifest}});
        const CommandResult copy =
            run("skopeo --insecure-policy copy --quiet oci:" + quoted(layout) +
                ":latest dir:" + quoted(temp.path() / ("copy-" + name)));
        EXPECT_EQ(copy.status, 0) << name << ": " << copy.output;
    }
}

TEST(ImageOci, MultiArchIndexSelectsByPlatform) {
    if (!have_tool("skopeo")) GTEST_SKIP() << "skopeo is not installed";
    dmc::TempDir temp("dmc-oci");
    const fs::path layout = temp.path() / "nginx";
    const LayerInfo amd64_layer = nginx_layer(temp.path(), "amd64");
    const LayerInfo arm64_layer = nginx_layer(temp.path(), "arm64");
    const Descriptor amd64 = write_image(layout, nginx_config("amd64"), {amd64_layer});
    const Descriptor arm64 = write_image(layout, nginx_config("arm64", "v8"), {arm64_layer});
    const Descriptor index = write_image_index(layout, {amd64, arm64});
    EXPECT_EQ(index.media_type, media_type_image_index);
    write_layout_index(layout, {{"latest", index}});
    const std::string reference = "oci:" + quoted(layout) + ":latest";

    const CommandResult raw = run_json("skopeo inspect --raw " + reference, temp.path());
    ASSERT_EQ(raw.status, 0) << raw.output;
    const json listed = json::parse(raw.output);
    EXPECT_EQ(listed["mediaType"], media_type_image_index);
    ASSERT_EQ(listed["manifests"].size(), 2u);

    // skopeo reports the digest of what the ref names (the index); the
    // layers tell which manifest it picked.
    for (const auto& [architecture, layer] : {std::pair{std::string("arm64"), arm64_layer},
                                              std::pair{std::string("amd64"), amd64_layer}}) {
        const CommandResult inspect = run_json(
            "skopeo --override-arch " + architecture + " --override-os linux inspect " + reference,
            temp.path());
        ASSERT_EQ(inspect.status, 0) << inspect.output;
        const json info = json::parse(inspect.output);
        EXPECT_EQ(info["Architecture"], architecture);
        EXPECT_EQ(info["Digest"], index.digest);
        EXPECT_EQ(info["Layers"], json::array({layer.digest}));
    }
    EXPECT_THROW(write_image_index(layout, {Descriptor{std::string(media_type_image_manifest),
                                                       amd64.digest,
                                                       amd64.size,
                                                       std::nullopt,
                                                       {}}}),
                 dmc::Error);
    // Nothing unreferenced: all blobs of both images stay.
    EXPECT_EQ(blobs_in(layout).size(), 7u);
}

TEST(ImageOci, DockerArchiveIsDeterministicAndLoadable) {
    dmc::TempDir temp("dmc-oci");
    const LayerInfo layer = nginx_layer(temp.path());
    const fs::path archive_path = temp.path() / "nginx.tar";
    write_docker_archive(archive_path, nginx_config(), {layer}, {"dmc/nginx:latest"});
    write_docker_archive(temp.path() / "again.tar", nginx_config(), {layer}, {"dmc/nginx:latest"});
    EXPECT_EQ(dmc::read_file(archive_path), dmc::read_file(temp.path() / "again.tar"));

    const std::string layer_hex = layer.diff_id.substr(7);
    const std::string config = config_json(nginx_config(), {layer.diff_id});
    const std::string config_name = dmc::sha256_hex(config) + ".json";
    const auto entries = read_archive(archive_path);
    ASSERT_EQ(entries.size(), 4u);
    EXPECT_EQ(entries[0].name, layer_hex + "/");
    EXPECT_EQ(entries[1].name, layer_hex + "/layer.tar");
    EXPECT_EQ(dmc::sha256_hex(entries[1].content), layer_hex);
    EXPECT_EQ(entries[2].name, config_name);
    EXPECT_EQ(entries[2].content, config);
    EXPECT_EQ(entries[3].name, "manifest.json");
    EXPECT_EQ(json::parse(entries[3].content),
              json::parse(R"([{"Config":")" + config_name +
                          R"(","RepoTags":["dmc/nginx:latest"],"Layers":[")" + layer_hex +
                          R"(/layer.tar"]}])"));
    for (const ArchiveEntry& entry : entries) EXPECT_EQ(entry.mtime, epoch) << entry.name;

    EXPECT_THROW(write_docker_archive(temp.path() / "bad.tar", nginx_config(), {layer}, {"no-tag"}),
                 dmc::Error);
    LayerInfo wrong = layer;
    wrong.diff_id = "sha256:" + std::string(64, 'f');
    EXPECT_THROW(write_docker_archive(temp.path() / "bad.tar", nginx_config(), {wrong},
                                      {"dmc/nginx:latest"}),
                 dmc::Error);
    EXPECT_FALSE(fs::exists(temp.path() / "bad.tar"));

    if (!have_tool("skopeo")) GTEST_SKIP() << "skopeo is not installed";
    const std::string reference = "docker-archive:" + quoted(archive_path);
    const CommandResult inspect = run_json("skopeo inspect " + reference, temp.path());
    ASSERT_EQ(inspect.status, 0) << inspect.output;
    const json info = json::parse(inspect.output);
    EXPECT_EQ(info["RepoTags"], json::array());  // skopeo lists registry tags, none here
    EXPECT_EQ(info["Architecture"], "amd64");
    EXPECT_EQ(info["Layers"], json::array({layer.diff_id}));
    EXPECT_EQ(info["Env"][1], "NGINX_VERSION=1.22.1");
    const CommandResult copy = run("skopeo --insecure-policy copy --quiet " + reference +
                                   " dir:" + quoted(temp.path() / "copied"));
    EXPECT_EQ(copy.status, 0) << copy.output;
}

TEST(ImageOci, ArtifactManifestNamesItsSubjectAndType) {
    const std::string hex(64, 'a');
    const Descriptor empty{
        std::string(media_type_empty), "sha256:" + std::string(64, 'e'), 2, std::nullopt, {}, {}};
    Descriptor sbom{"application/spdx+json",
                    "sha256:" + std::string(64, 'b'),
                    10,
                    std::nullopt,
                    {{"org.opencontainers.image.title", "x.spdx.json"}},
                    {}};
    Descriptor subject{std::string(media_type_image_manifest), "sha256:" + hex, 99,
                       Platform{"amd64", "linux", ""},         {{"k", "v"}},    {}};
    const json doc =
        json::parse(artifact_manifest_json("application/spdx+json", empty, {sbom}, subject));
    EXPECT_EQ(doc["artifactType"], "application/spdx+json");
    EXPECT_EQ(doc["config"]["mediaType"], media_type_empty);
    EXPECT_EQ(doc["layers"][0]["annotations"]["org.opencontainers.image.title"], "x.spdx.json");
    // The subject is a plain descriptor: no platform or annotations of the image.
    EXPECT_EQ(doc["subject"], json({{"mediaType", media_type_image_manifest},
                                    {"digest", "sha256:" + hex},
                                    {"size", 99}}));
    EXPECT_FALSE(doc.contains("annotations"));
    // The annotations a referrers API lists with the artifact are the manifest's own.
    EXPECT_EQ(json::parse(artifact_manifest_json("application/spdx+json", empty, {sbom}, subject,
                                                 {{"dev.dmc.sbom.arch", "arm64"}}))["annotations"],
              json({{"dev.dmc.sbom.arch", "arm64"}}));
    sbom.artifact_type = "application/spdx+json";
    EXPECT_EQ(descriptor_from_json(descriptor_to_json(sbom)).artifact_type,
              "application/spdx+json");
    EXPECT_EQ(referrers_tag("sha256:" + hex), "sha256-" + hex);
    EXPECT_THROW(referrers_tag("sha256:short"), dmc::Error);
}

TEST(ImageOci, IndexEntriesKeepValidDescriptorsOnly) {
    const std::string a = "sha256:" + std::string(64, 'a');
    const std::string b = "sha256:" + std::string(64, 'b');
    const json index = {
        {"schemaVersion", 2},
        {"manifests",
         {{{"mediaType", media_type_image_manifest},
           {"digest", a},
           {"size", 5},
           {"platform", {{"architecture", "arm64"}, {"os", "linux"}}}},
          {{"mediaType", media_type_image_manifest}, {"size", 5}},  // no digest
          {{"mediaType", media_type_image_manifest}, {"digest", "sha256:short"}, {"size", 5}},
          {{"mediaType", media_type_image_manifest}, {"digest", b}, {"size", 7}}}}};
    std::size_t left_out = 9;
    const auto entries = index_entries(index.dump(), &left_out);
    ASSERT_EQ(entries.size(), 2U);
    EXPECT_EQ(left_out, 2U);
    EXPECT_EQ(entries[0].digest, a);
    EXPECT_EQ(architecture_of(entries[0]), "arm64");
    EXPECT_EQ(entries[1].digest, b);
    EXPECT_EQ(architecture_of(entries[1]), "?");
    EXPECT_TRUE(index_entries("not json").empty());
    EXPECT_TRUE(index_entries(R"({"manifests": {}})").empty());
    EXPECT_TRUE(index_entries("[]").empty());
}

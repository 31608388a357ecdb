// What the unpacked packages put in a rootfs: every file with its package, type,
// mode, owner, size and digest (ownership lives here, not in chown), and each
// package's control data for the image's dpkg metadata.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace dmc::rootfs {

struct FileRecord {
    std::string package;
    char type = 'f';  // f file, d directory, l symlink, h hard link
    std::uint32_t mode = 0644, uid = 0, gid = 0;
    std::uint64_t size = 0;
    std::string sha256;  // files only
    std::string link;    // symlink target, or the image path a hard link points to
};

struct PackageRecord {
    std::string version, arch;
    std::string control;  // the control file (a deb822 stanza)
    std::string md5sums;  // the md5sums file, as shipped
    std::string conffiles;
    // The maintainer scripts whose effects dmc reproduces statically ("preinst",
    // "postinst"), by name; never run.
    std::map<std::string, std::string> scripts;
    std::int64_t mtime = 0;  // the newest entry of its data, a date from the inputs
};

// A package's record as JSON, as the manifest and the package store keep it.
void to_json(nlohmann::json& j, const PackageRecord& p);
void from_json(const nlohmann::json& j, PackageRecord& p);

struct Manifest {
    std::map<std::string, FileRecord> files;  // by image path ("/usr/sbin/nginx")
    std::map<std::string, PackageRecord> packages;

    void save(const std::filesystem::path& file) const;
    static Manifest load(const std::filesystem::path& file);
};

}  // namespace dmc::rootfs

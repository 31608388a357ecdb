// The archive client: mirrors -> verified Release files -> verified Packages
// indexes -> a PackageIndex, and .deb files into a content-addressed cache shared
// by every arch, template and run.
#pragma once

#include <array>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "apt/decompress.hpp"
#include "apt/index.hpp"
#include "apt/release.hpp"
#include "config/settings.hpp"
#include "net/http.hpp"

namespace dmc::apt {

// One Packages index of one suite, component and arch, verified and cached.
struct IndexFile {
    std::string mirror, suite, component, arch;
    std::filesystem::path path;  // uncompressed, in the cache
    std::string sha256;          // of the uncompressed text
    // The signed file (InRelease, else Release) it was verified against: its SHA256
    // and its Date field.
    std::string release_sha256, release_date;
};

// A chosen package, enough to fetch and check it without the index.
struct PackageRef {
    std::string name, version, arch, url, sha256;
    std::uint64_t size = 0;
    // Where it came from: url is mirror + "/" + filename.
    std::string mirror, suite, component, filename;
    static PackageRef of(const Package& p);
    std::string display() const { return name + " " + version + " " + arch; }
};

class Archive {
  public:
    Archive(const config::Settings& settings, net::Http& http);
    ~Archive();
    Archive(const Archive&) = delete;
    Archive& operator=(const Archive&) = delete;

    // The mirrors in use: configured, or the host's apt sources.
    const std::vector<config::Mirror>& mirrors() const { return mirrors_; }
    std::string keyring_of(const config::Mirror& m) const;

    // Makes sure the indexes of `arch` are in the cache, verified. With refresh, the
    // Release files are fetched again; otherwise a cached, still valid one is used.
    std::vector<IndexFile> indexes(const std::string& arch, bool refresh);

    // The same for the dist's Sources indexes (arch "source"), for builds from source.
    std::vector<IndexFile> source_indexes(bool refresh);
    net::Http& http() { return http_; }

    // A PackageIndex over the given (cached) index files: parsed from their text the
    // first time, then read from the parsed index saved in the cache. A fresh parse is
    // saved on another thread while the run goes on (the Archive waits for that when it
    // is destroyed), and a load of the same files meanwhile shares it.
    std::shared_ptr<const PackageIndex> load(const std::vector<IndexFile>& files) const;

    // The text of a cached index file (one indexes() returned), once it is on disk.
    std::string index_text(const IndexFile& file) const;

    // Fetches the .deb files (checking their SHA256 against the index) into the cache
    // and returns their paths, in the order given. Safe with concurrent dmc processes.
    // `ready(i)`, when given, is called on this thread as soon as packages[i] is in the
    // cache: at once for those there already, the others as their download ends.
    std::vector<std::filesystem::path> fetch(const std::vector<PackageRef>& packages,
                                             const std::function<void(std::size_t)>& ready = {});

    // Fetches one package from `url` into the cache, checked against its SHA256 and
    // size; false when the server does not have it.
    bool fetch_from(const PackageRef& p, const std::string& url);

    std::filesystem::path deb_path(const PackageRef& p) const;
    bool cached(const PackageRef& p) const;

  private:
    PackageIndex parse(const std::vector<IndexFile>& files) const;
    // Waits until a cached index fetched in this run is on disk; throws what kept it off.
    void wait_written(const std::filesystem::path& index) const;
    static void forget_parsed(const std::filesystem::path& dir);
    struct SignedRelease {
        std::string text;    // the verified Release fields; empty: the suite is not there
        std::string sha256;  // of the signed file as served
    };
    SignedRelease release_text(const config::Mirror& m, const std::string& suite, bool refresh,
                               bool primary);
    // The indexes of every suite of every mirror that serves `arch` ("source": every
    // mirror), each suite's Release verified and handed to `indexes_of`; the suites are
    // fetched at once, the files come back in the mirrors' and suites' order, and so
    // does the first failure.
    using SuiteIndexes = std::function<std::vector<IndexFile>(
        const config::Mirror&, const std::string& suite, const ReleaseFile&,
        const std::string& release_sha256)>;
    std::vector<IndexFile> each_suite(const std::string& arch, bool refresh,
                                      const SuiteIndexes& indexes_of);
    // One index of a suite (dir_in_suite "main/binary-amd64", name "Packages"),
    // verified against its Release file into the cache; nullopt when it lists none.
    std::optional<IndexFile> index_file(const config::Mirror& m, const std::string& suite,
                                        const ReleaseFile& release,
                                        const std::string& release_sha256,
                                        const std::string& dir_in_suite, const std::string& name,
                                        const std::string& arch);
    const config::Settings& settings_;
    net::Http& http_;
    std::vector<config::Mirror> mirrors_;
    std::filesystem::path cache_;
    // The indexes parsed in this run, by their saved file, while anything holds them;
    // and their saving.
    mutable std::map<std::filesystem::path, std::weak_ptr<const PackageIndex>> parsed_now_;
    mutable std::vector<std::future<void>> saving_;
    // The indexes fetched in this run: each one's text on its way to the cache, and
    // a Packages index parsed as it was decompressed, until a load takes it.
    mutable std::mutex fresh_mutex_;
    mutable std::map<std::filesystem::path, std::shared_future<void>> writing_;
    mutable std::map<std::filesystem::path, std::shared_ptr<PackageIndex>> fresh_parts_;
};

// A suite that carries security updates: "trixie-security", or "bookworm/updates" of old.
bool security_suite(const std::string& suite);

// A mirror of a snapshot service, pinned to one moment: ".../archive/<archive>/<date>",
// the date as 20250520T000000Z. Its Release files may be long expired.
bool is_snapshot_mirror(const std::string& url);
// <service>/archive/<archive>/<date>: the snapshot of `mirror` at `date`, where the
// archive is the mirror's last path component ("debian", "debian-security").
std::string snapshot_mirror(const std::string& service, const std::string& mirror,
                            const std::string& date);
// The date a Release Date field names, as a snapshot date (20250520T000000Z); "" when
// it cannot be read.
std::string snapshot_date_of(const std::string& release_date, long long plus_seconds = 0);

// The most a mirror's answer may hold where no signed size says better: a Release
// file (Debian's is 150 kB, Ubuntu's 300 kB), and an index (Debian's largest
// Packages file is 60 MB uncompressed).
constexpr std::uint64_t kReleaseLimit = 32ull << 20;
constexpr std::uint64_t kIndexLimit = 2ull << 30;

// The forms of an index to look for in a Release file, the first listed taken: gzip
// first from a mirror whose measured rate (bytes a second) is at least kFastMirror,
// xz first otherwise.
constexpr double kFastMirror = 32e6;
std::array<const char*, 4> index_formats(std::optional<double> mirror_rate);

}  // namespace dmc::apt

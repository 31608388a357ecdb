// dmc.lock: what every image of a config is built from, per dist, arch and image
// template: each package with its version, digest, size and where it came from,
// the signed Release files those were verified against, the source a build from
// source starts from, the versions of the
// templates whose hooks make the image, and the options that change its bytes.
// One stable, sorted YAML form (no clock in it), meant for version control.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dmc::lock {

struct Package {
    std::string name, version, arch, sha256;
    std::uint64_t size = 0;
    std::string mirror, suite, component, filename;  // mirror + "/" + filename fetches it
};

struct Release {
    std::string mirror, suite;
    std::string sha256;  // of the signed InRelease (or Release) file
    std::string date;    // its Date field
};

// The source an image's build from source starts from (plugin BuildSpec): the .dsc
// or the tarball, by its URL and SHA256.
struct Source {
    std::string name, version, url, sha256;
    bool operator==(const Source&) const = default;
};

struct Entry {
    std::string dist, arch, image;
    std::map<std::string, std::string> templates;  // name -> version, every one of the image
    std::map<std::string, std::string> options;    // what changes the image bytes
    std::vector<std::string> request, exclude;     // what the templates asked for
    std::vector<Release> releases;                 // sorted by mirror, suite
    std::vector<Package> packages;                 // sorted by name, arch
    std::optional<Source> source;                  // a build from source's
    int line = 0;                                  // where it starts in the file; 0: new
    std::string key() const { return dist + "/" + arch + "/" + image; }
};

class Lock {
  public:
    // Throws Error "FILE:LINE: ..." for anything that is not a lock this dmc wrote.
    static Lock parse(const std::string& text, const std::string& origin);
    // The lock when `text` is exactly the form render() writes, read without a YAML
    // parser (parse tries it first); nullopt for any other form.
    static std::optional<Lock> parse_written(const std::string& text);
    // A missing file is an empty lock.
    static Lock load(const std::filesystem::path& file);
    // The file's text: entries by key, packages by name; the same lock, the same bytes.
    std::string render() const;
    // Writes it atomically when its text changed; returns whether it did. Another dmc
    // (on another cache) may have written the file since it was read: the entries
    // this one put or erased replace theirs, and theirs are kept (and read back).
    bool save(const std::filesystem::path& file);

    const Entry* find(const std::string& dist, const std::string& arch,
                      const std::string& image) const;
    void put(Entry entry);  // sorts its lists
    void erase(const std::string& key) {
        entries_.erase(key);
        changed_.insert(key);
    }
    const std::map<std::string, Entry>& entries() const { return entries_; }

  private:
    std::map<std::string, Entry> entries_;
    std::set<std::string> changed_;  // the keys put or erased since it was read
};

}  // namespace dmc::lock

#include "apt/archive.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "apt/release.hpp"
#include "apt/sources.hpp"
#include "log/log.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/parallel.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::apt {
namespace {

// Debian releases that left the mirrors for Debian's archive of old releases.
const std::set<std::string> kArchivedDebian = {"buzz",    "rex",    "bo",     "hamm",    "slink",
                                               "potato",  "woody",  "sarge",  "etch",    "lenny",
                                               "squeeze", "wheezy", "jessie", "stretch", "buster"};

std::string cache_key(const std::string& raw_url) {
    const std::string url = redact_credentials(raw_url);
    std::string key;
    for (char c : url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3))
        key += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
    return key;
}

}  // namespace

std::array<const char*, 4> index_formats(std::optional<double> mirror_rate) {
    // xz is the smallest download, gzip the quickest to decode: Debian's main index
    // (57 MB) is 9.7 MB of xz and 13.3 MB of gzip, and xz takes 0.6 s of CPU to
    // decode it where gzip takes 0.10 s (ISA-L), so on two cores gzip's text is
    // parsed 0.2 s sooner. That outweighs its 3.6 MB more from a mirror faster than
    // kFastMirror; from a slower one, or one not measured yet, xz comes first.
    if (mirror_rate && *mirror_rate >= kFastMirror) return {".gz", ".xz", ".bz2", ""};
    return {".xz", ".gz", ".bz2", ""};
}

Archive::Archive(const config::Settings& settings, net::Http& http)
    : settings_(settings), http_(http), cache_(settings.cache_dir) {
    mirrors_ = settings.mirrors.empty() ? host_sources() : settings.mirrors;
    if (mirrors_.empty())
        throw Error(
            "no mirror: the host has no apt sources; give one with -M URL or 'mirrors' in the "
            "config");
    // --snapshot DATE: every mirror as the snapshot service had it at that moment.
    if (!settings.snapshot.empty()) {
        if (settings.snapshot_url.empty())
            throw Error("--snapshot " + settings.snapshot +
                        " needs a snapshot service: set snapshot_url (DMC_SNAPSHOT_URL)");
        for (auto& m : mirrors_) {
            if (is_snapshot_mirror(m.url)) continue;
            m.url = snapshot_mirror(settings.snapshot_url, m.url, settings.snapshot);
        }
    }
}

bool security_suite(const std::string& suite) {
    return suite.ends_with("-security") || suite.ends_with("/updates");
}

namespace {
// 20250520T000000Z
bool snapshot_date_text(std::string_view d) {
    if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return false;
    for (std::size_t i = 0; i < 15; ++i)
        if (i != 8 && !std::isdigit(static_cast<unsigned char>(d[i]))) return false;
    return true;
}
}  // namespace

bool is_snapshot_mirror(const std::string& url) {
    std::string_view u(url);
    while (u.ends_with('/')) u.remove_suffix(1);
    const auto slash = u.rfind('/');
    if (slash == std::string_view::npos || !snapshot_date_text(u.substr(slash + 1))) return false;
    u = u.substr(0, slash);
    const auto name = u.rfind('/');
    return name != std::string_view::npos && u.substr(0, name).ends_with("/archive");
}

std::string snapshot_mirror(const std::string& service, const std::string& mirror,
                            const std::string& date) {
    std::string base = service, archive = mirror;
    while (base.ends_with('/')) base.pop_back();
    while (archive.ends_with('/')) archive.pop_back();
    if (is_snapshot_mirror(archive)) archive.erase(archive.rfind('/'));  // its date
    archive = archive.substr(archive.rfind('/') + 1);
    return base + "/archive/" + archive + "/" + date;
}

std::string snapshot_date_of(const std::string& release_date, long long plus_seconds) {
    const auto when = parse_release_date(release_date);
    if (!when) return "";
    const std::time_t t = *when + static_cast<std::time_t>(plus_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char out[32];
    std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &tm);
    return out;
}

std::string Archive::keyring_of(const config::Mirror& m) const {
    return m.keyring.empty() ? settings_.keyring : m.keyring;
}

Archive::SignedRelease Archive::release_text(const config::Mirror& m, const std::string& suite,
                                             bool refresh, bool primary) {
    const fs::path dir = cache_ / "lists" / (cache_key(m.url) + "_dists_" + suite);
    const fs::path verified = dir / "Release";
    const fs::path signed_digest = dir / "Release.sha256";
    const std::string where = m.url + "/dists/" + suite;
    // A snapshot's date is fixed by the user: its expired Release files are what
    // that moment had, accepted for that mirror alone, and said so each time.
    const bool snapshot = is_snapshot_mirror(m.url);
    auto expired_snapshot = [&](const ReleaseFile& release) {
        std::tm tm{};
        gmtime_r(&*release.valid_until, &tm);
        char until[40];
        std::strftime(until, sizeof until, "%Y-%m-%d %H:%M:%S UTC", &tm);
        log::warning(where + ": the Release file expired (Valid-Until " + until +
                     ") -- accepted because this is a snapshot mirror, fixed at its date");
    };
    std::error_code ec;
    if (!refresh && fs::exists(verified, ec)) {
        std::string text = read_file(verified);
        auto release = parse_release(text);
        const bool expired = release.valid_until && *release.valid_until <= std::time(nullptr);
        if (!expired || settings_.allow_unsigned || snapshot) {
            if (expired && snapshot) expired_snapshot(release);
            return {text, fs::exists(signed_digest, ec) ? read_file(signed_digest) : ""};
        }
        log::info(where + ": the cached Release file expired, fetching it again");
    }
    std::string text, signed_sha256;
    const std::string keyring = keyring_of(m);
    // Only a verified Release file is cached: one taken with --allow-unsigned must not
    // be trusted by a later run without it.
    bool verified_ok = true;
    if (auto inrelease = http_.get(where + "/InRelease", kReleaseLimit)) {
        signed_sha256 = sha256_hex(*inrelease);
        if (settings_.allow_unsigned) {
            try {
                text = verify_inrelease(*inrelease, keyring, where + "/InRelease");
            } catch (const Error& e) {
                log::warning(std::string(e.what()) +
                             " -- accepted because unsigned input is allowed");
                text = signed_message(*inrelease, where + "/InRelease");
                verified_ok = false;
            }
        } else {
            text = verify_inrelease(*inrelease, keyring, where + "/InRelease");
        }
    } else if (auto release = http_.get(where + "/Release", kReleaseLimit)) {
        signed_sha256 = sha256_hex(*release);
        auto signature = http_.get(where + "/Release.gpg", kReleaseLimit);
        try {
            if (!signature)
                throw Error(where +
                            "/Release: no signature (Release.gpg is missing); refusing it "
                            "(use --allow-unsigned only if you trust this mirror)");
            verify_detached(*release, *signature, keyring, where + "/Release");
        } catch (const Error& e) {
            if (!settings_.allow_unsigned) throw;
            log::warning(std::string(e.what()) + " -- accepted because unsigned input is allowed");
            verified_ok = false;
        }
        text = *release;
    } else {
        if (!primary) return {};
        std::string hint = "check -D or the mirror";
        if (kArchivedDebian.count(suite))
            hint = suite +
                   " is no longer on Debian's mirrors (it moved to the archive); pick a current "
                   "dist such as trixie, or give an archive mirror with -M";
        throw Error("dist '" + suite + "' is not on " + m.url + " (no dists/" + suite +
                    "/InRelease or Release); " + hint);
    }
    auto release = parse_release(text);
    // A validly signed but older Release than the one already verified is a replay.
    if (fs::exists(verified, ec)) {
        const auto cached = parse_release(read_file(verified));
        const auto cached_date = parse_release_date(cached.date);
        const auto new_date = parse_release_date(release.date);
        if (cached_date && new_date && *new_date < *cached_date) {
            if (!settings_.allow_unsigned)
                throw Error(where + ": the mirror's Release file (" + release.date +
                            ") is older than the one already verified (" + cached.date +
                            "); the mirror is stale or replaying old files; use another mirror");
            log::warning(where +
                         ": an older Release file -- accepted because unsigned input is allowed");
        }
    }
    if (release.valid_until && *release.valid_until < std::time(nullptr) && snapshot) {
        expired_snapshot(release);
    } else if (release.valid_until && *release.valid_until < std::time(nullptr)) {
        if (!settings_.allow_unsigned)
            throw Error(where +
                        ": the Release file expired (Valid-Until is in the past); the mirror is "
                        "stale or replayed; use another mirror");
        log::warning(where +
                     ": the Release file expired -- accepted because unsigned input is allowed");
    }
    // A validly signed Release file of another suite, served in this one's place, is
    // a replay (an older release, say) or a misconfigured mirror.
    if ((!release.suite.empty() || !release.codename.empty()) && release.suite != suite &&
        release.codename != suite) {
        const std::string problem = where + ": the Release file is for suite '" + release.suite +
                                    "' (codename '" + release.codename + "'), not '" + suite + "'";
        if (!settings_.allow_unsigned)
            throw Error(problem + "; the mirror is misconfigured or replays another suite");
        log::warning(problem + " -- accepted because unsigned input is allowed");
        verified_ok = false;
    }
    if (verified_ok) {
        write_file_atomic(signed_digest, signed_sha256);
        write_file_atomic(verified, text);
    }
    return {text, signed_sha256};
}

std::optional<IndexFile> Archive::index_file(const config::Mirror& m, const std::string& suite,
                                             const ReleaseFile& release,
                                             const std::string& release_sha256,
                                             const std::string& dir_in_suite,
                                             const std::string& name, const std::string& arch) {
    const std::string component = dir_in_suite.substr(0, dir_in_suite.find('/'));
    const std::string base = dir_in_suite + "/" + name;
    auto plain = release.files.find(base);
    const char* chosen = nullptr;
    for (const char* ext : index_formats(http_.rate(m.url)))
        if (release.files.count(base + ext)) {
            chosen = ext;
            break;
        }
    if (chosen == nullptr) {
        log::warning(m.url + " " + suite + " lists no " + base + ", skipped");
        return std::nullopt;
    }
    const auto& entry = release.files.at(base + chosen);
    IndexFile f{m.url, suite, component, arch, {}, {}, release_sha256, release.date};
    // The cache holds uncompressed indexes by the SHA256 the Release file gives.
    const std::string key = plain != release.files.end() ? plain->second.sha256 : entry.sha256;
    f.path = cache_ / "indexes" / key;
    f.sha256 = key;
    std::error_code ec;
    bool fetched_now = false;
    {
        const std::lock_guard lock(fresh_mutex_);
        fetched_now = writing_.count(f.path) > 0;
    }
    if (!fetched_now && !fs::exists(f.path, ec)) {
        const std::string dir = m.url + "/dists/" + suite + "/";
        const std::string url = release.acquire_by_hash
                                    ? dir + dir_in_suite + "/by-hash/SHA256/" + entry.sha256
                                    : dir + base + chosen;
        const std::string what = dir + base + chosen;
        const std::uint64_t text_limit =
            plain != release.files.end() ? plain->second.size : kIndexLimit;
        // The index is decoded as it downloads. Its text is written to the cache as it
        // is decoded and, for a Packages index, hashed and parsed into an index of its
        // own on a core of its own, which the decoding and the download keep as busy
        // as the parse does the other. None of it is used unless the download and its
        // text match the signed Release file.
        struct Attempt {
            Sha256 hash;  // the download's
            std::uint64_t size = 0;
            std::shared_ptr<AtomicFile> text;
            Sha256 text_hash;
            std::uint64_t text_size = 0;
            std::shared_ptr<PackageIndex> part;
            std::optional<IndexFeed> feed;
            std::unique_ptr<Handoff> take;  // after what it writes to: it ends first
            std::unique_ptr<Decoder> decoder;
            std::exception_ptr undecodable;  // told once the download's digest is known
        };
        std::unique_ptr<Attempt> now;
        auto text_piece = [](Attempt& a, std::string_view piece) {
            a.text->write(piece);
            a.text_size += piece.size();
            if (a.take)
                a.take->add(piece);
            else
                a.text_hash.update(piece);
        };
        auto start = [&] {
            now.reset();
            now = std::make_unique<Attempt>();
            Attempt* a = now.get();
            a->text = std::make_shared<AtomicFile>(f.path);
            if (name == "Packages") {
                a->part = std::make_shared<PackageIndex>();
                a->part->reserve(plain != release.files.end() ? plain->second.size
                                                              : entry.size * 6);
                a->feed.emplace(*a->part, m.url, component, arch, suite);
            }
            if (a->part)
                a->take = std::make_unique<Handoff>([a](std::string_view piece) {
                    a->text_hash.update(piece);
                    if (!a->part) return;
                    try {
                        a->feed->add(piece);
                    } catch (const Error&) {
                        a->part.reset();  // parsed from the cache, where the error is reported
                    }
                });
            if (*chosen)
                a->decoder = std::make_unique<Decoder>(
                    what, text_limit,
                    [a, text_piece](std::string_view piece) { text_piece(*a, piece); });
        };
        auto decode = [&](auto&& step) {
            if (now->undecodable) return;
            try {
                step();
            } catch (const Error&) {
                now->undecodable = std::current_exception();
            }
        };
        auto arrived = [&](std::string_view bytes) {
            now->hash.update(bytes);
            now->size += bytes.size();
            decode([&] { now->decoder ? now->decoder->add(bytes) : text_piece(*now, bytes); });
        };
        // No more than the signed Release says: an endless answer stops there.
        start();
        bool found = http_.get_to(url, entry.size, arrived, start);
        if (!found && release.acquire_by_hash) {
            start();
            found = http_.get_to(dir + base + chosen, entry.size, arrived, start);
        }
        if (!found)
            throw Error(dir + base + chosen +
                        " is listed in the Release file but missing on the mirror");
        if (now->decoder) decode([&] { now->decoder->finish(); });
        if (now->size != entry.size || now->hash.hex() != entry.sha256)
            throw Error(what +
                        ": size or SHA256 does not match the signed Release file (expected " +
                        entry.sha256 + "); the mirror is corrupt or tampered with");
        if (now->undecodable) std::rethrow_exception(now->undecodable);
        if (now->take) now->take->finish();
        auto text = now->text;
        auto part = now->part;
        if (plain != release.files.end() &&
            (now->text_size != plain->second.size || now->text_hash.hex() != plain->second.sha256))
            throw Error(what + ": the uncompressed index does not match the signed Release file");
        if (part) {
            try {
                now->feed->finish();
            } catch (const Error&) {
                part.reset();
            }
        }
        // Written to disk while the run goes on: whatever reads the file waits for it.
        const std::lock_guard lock(fresh_mutex_);
        if (part) fresh_parts_[f.path] = part;
        writing_[f.path] = std::async(std::launch::async, [text] {
                               run_as_background();
                               text->commit();
                           }).share();
        log::info("fetched " + what);
    }
    return f;
}

std::vector<IndexFile> Archive::each_suite(const std::string& arch, bool refresh,
                                           const SuiteIndexes& indexes_of) {
    struct Suite {
        const config::Mirror* mirror;
        std::string name;
        bool primary;  // the first suite of the first mirror: it must be there
    };
    std::vector<Suite> suites;
    bool first_mirror = true;
    for (const auto& m : mirrors_) {
        if (arch != "source" && !m.archs.empty() &&
            std::find(m.archs.begin(), m.archs.end(), arch) == m.archs.end())
            continue;
        bool primary = first_mirror;
        first_mirror = false;
        for (const auto& suite : suites_for(m, settings_.dist)) {
            suites.push_back({&m, suite, primary});
            primary = false;
        }
    }
    // Every suite at once: each mostly waits on the network and gpgv.
    std::vector<std::vector<IndexFile>> found(suites.size());
    for_each_parallel(
        suites.size(),
        [&](std::size_t i) {
            const auto& s = suites[i];
            const auto signed_release = release_text(*s.mirror, s.name, refresh, s.primary);
            if (signed_release.text.empty()) {
                log::warning(s.mirror->url + " has no suite " + s.name + ", skipped");
                return;
            }
            found[i] = indexes_of(*s.mirror, s.name, parse_release(signed_release.text),
                                  signed_release.sha256);
        },
        suites.size());
    std::vector<IndexFile> out;
    for (auto& files : found) out.insert(out.end(), files.begin(), files.end());
    return out;
}

std::vector<IndexFile> Archive::indexes(const std::string& arch, bool refresh) {
    if (settings_.allow_unsigned)
        log::warning(
            "unsigned or expired archive indexes are allowed: the packages cannot be trusted");
    auto out = each_suite(
        arch, refresh,
        [&](const config::Mirror& m, const std::string& suite, const ReleaseFile& release,
            const std::string& release_sha256) {
            if (!release.architectures.empty() &&
                std::find(release.architectures.begin(), release.architectures.end(), arch) ==
                    release.architectures.end())
                throw Error(m.url + " " + suite + " has no architecture " + arch + " (it has " +
                            config::join(release.architectures, " ") + ")");
            std::vector<IndexFile> files;
            for (const auto& component : m.components)
                if (auto f = index_file(m, suite, release, release_sha256,
                                        component + "/binary-" + arch, "Packages", arch))
                    files.push_back(*f);
            return files;
        });
    if (out.empty()) throw Error("no package index for " + arch + " on any mirror");
    return out;
}

std::vector<IndexFile> Archive::source_indexes(bool refresh) {
    auto out =
        each_suite("source", refresh,
                   [&](const config::Mirror& m, const std::string& suite,
                       const ReleaseFile& release, const std::string& release_sha256) {
                       std::vector<IndexFile> files;
                       for (const auto& component : m.components)
                           if (auto f = index_file(m, suite, release, release_sha256,
                                                   component + "/source", "Sources", "source"))
                               files.push_back(*f);
                       return files;
                   });
    if (out.empty())
        throw Error("no Sources index for " + settings_.dist +
                    " on any mirror; give a mirror that has the source packages");
    return out;
}

Archive::~Archive() {
    for (auto& s : saving_) s.wait();
    for (auto& [path, writing] : writing_) try {
            writing.get();
        } catch (const std::exception& e) {
            // Only the next run's time is lost: it fetches the index again.
            log::warning(std::string("an index was not kept in the cache: ") + e.what());
        }
}

void Archive::wait_written(const fs::path& index) const {
    std::shared_future<void> writing;
    {
        const std::lock_guard lock(fresh_mutex_);
        const auto found = writing_.find(index);
        if (found == writing_.end()) return;
        writing = found->second;
    }
    writing.get();
}

std::string Archive::index_text(const IndexFile& file) const {
    wait_written(file.path);
    return read_file(file.path);
}

std::shared_ptr<const PackageIndex> Archive::load(const std::vector<IndexFile>& files) const {
    // Parsed once: the index of these verified files, saved under their digests and
    // where they came from, is read by every later run.
    std::string key = "parsed 1\n";
    for (const auto& f : files)
        key += f.sha256 + " " + f.mirror + " " + f.suite + " " + f.component + " " + f.arch + "\n";
    const fs::path parsed_dir = cache_ / "parsed";
    const fs::path parsed = parsed_dir / sha256_hex(key);
    std::error_code ec;
    // A mirror's credentials stay out of the file: each origin is written without
    // them and given them back from the mirror it names when read.
    auto mirror_of = [&](std::string_view written) {
        for (const auto& f : files) {
            std::string url = f.mirror;
            while (!url.empty() && url.back() == '/') url.pop_back();
            if (without_credentials(url) == written) return url;
        }
        return std::string(written);
    };
    if (auto now = parsed_now_[parsed].lock()) return now;
    if (auto saved = PackageIndex::load_saved(parsed, mirror_of)) {
        fs::last_write_time(parsed, fs::file_time_type::clock::now(), ec);
        return std::make_shared<const PackageIndex>(std::move(*saved));
    }
    auto index = std::make_shared<const PackageIndex>(parse(files));
    parsed_now_[parsed] = index;
    saving_.push_back(std::async(std::launch::async, [index, parsed, parsed_dir] {
        try {
            run_as_background();
            fs::create_directories(parsed_dir);
            index->save(parsed, [](std::string_view url) { return without_credentials(url); });
            forget_parsed(parsed_dir);
        } catch (const std::exception& e) {
            // Only the next run's time is lost.
            log::info(std::string("the parsed index was not saved: ") + e.what());
        }
    }));
    return index;
}

void Archive::forget_parsed(const fs::path& dir) {
    // The parsed indexes used last are kept (one set of suites per arch and a
    // few updates back); a parsed index is as large as a third of its text.
    constexpr std::size_t kKept = 6;
    std::vector<std::pair<fs::file_time_type, fs::path>> saved;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (!entry.path().filename().string().starts_with('.'))
            saved.emplace_back(fs::last_write_time(entry.path(), ec), entry.path());
    std::sort(saved.begin(), saved.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t i = kKept; i < saved.size(); ++i) fs::remove(saved[i].second, ec);
}

PackageIndex Archive::parse(const std::vector<IndexFile>& files) const {
    PackageIndex index;
    std::vector<std::shared_ptr<PackageIndex>> parts;
    {
        const std::lock_guard lock(fresh_mutex_);
        for (const auto& f : files) {
            const auto found = fresh_parts_.find(f.path);
            parts.push_back(found == fresh_parts_.end() ? nullptr : found->second);
            if (found != fresh_parts_.end()) fresh_parts_.erase(found);
        }
    }
    // The first index parsed as it was fetched is where the others are added; the
    // rest are read from the cache.
    std::size_t first = 0;
    if (!files.empty() && parts[0]) {
        index = std::move(*parts[0]);
        first = 1;
    }
    // The index keeps copies of the fields it needs, so the text is read in chunks:
    // memory stays at the index's size, not the index plus 57 MB.
    constexpr std::size_t kChunk = 4 << 20;
    std::size_t total = 0;
    for (std::size_t i = first; i < files.size(); ++i) {
        std::error_code ec;
        wait_written(files[i].path);
        total += static_cast<std::size_t>(fs::file_size(files[i].path, ec));
    }
    index.reserve(total);
    std::vector<char> chunk(kChunk);
    for (std::size_t i = first; i < files.size(); ++i) {
        const auto& f = files[i];
        const std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(f.path.c_str(), "rb"),
                                                       std::fclose);
        if (!in)
            throw Error("cannot read the cached index " + f.path.string() + "; run dmc -a setup");
        IndexFeed feed(index, f.mirror, f.component, f.arch, f.suite);
        while (const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), in.get()))
            feed.add(std::string_view(chunk.data(), n));
        feed.finish();
    }
    return index;
}

PackageRef PackageRef::of(const Package& p) {
    PackageRef r{std::string(p.name()),         std::string(p.version()),
                 std::string(p.architecture()), p.url(),
                 std::string(p.sha256()),       p.size()};
    r.mirror = p.origin().base_url;
    r.suite = p.origin().suite;
    r.component = p.origin().component;
    r.filename = std::string(p.filename());
    return r;
}

fs::path Archive::deb_path(const PackageRef& p) const {
    return cache_ / "debs" / (p.sha256 + ".deb");
}

bool Archive::fetch_from(const PackageRef& p, const std::string& url) {
    auto data = http_.get(url, p.size);
    if (!data) return false;
    if (data->size() != p.size || sha256_hex(*data) != p.sha256)
        throw Error(url + ": size or SHA256 does not match " + p.display() +
                    " as locked; the server is corrupt or serves another file");
    FileLock lock(cache_ / "debs" / ".lock");
    write_file_atomic(deb_path(p), *data);
    return true;
}

bool Archive::cached(const PackageRef& p) const {
    std::error_code ec;
    return fs::exists(deb_path(p), ec);
}

std::vector<fs::path> Archive::fetch(const std::vector<PackageRef>& packages,
                                     const std::function<void(std::size_t)>& ready) {
    std::vector<fs::path> paths;
    std::vector<net::Download> missing;
    std::vector<std::vector<std::size_t>> waiting;  // by download: the packages it brings
    std::map<std::string, std::size_t> queued;      // path -> its download
    std::vector<std::size_t> there;
    // One process fetches at a time; the other waits and then finds the files there.
    FileLock lock(cache_ / "debs" / ".lock");
    for (std::size_t i = 0; i < packages.size(); ++i) {
        const auto& p = packages[i];
        if (p.sha256.size() != 64)
            throw Error(p.display() +
                        " has no SHA256 in the index; refusing an unverifiable package");
        auto path = deb_path(p);
        paths.push_back(path);
        std::error_code ec;
        if (auto it = queued.find(path.string()); it != queued.end()) {
            waiting[it->second].push_back(i);
        } else if (fs::exists(path, ec)) {
            there.push_back(i);
        } else {
            queued.emplace(path.string(), missing.size());
            missing.push_back({p.url, path, p.sha256, p.size, p.display()});
            waiting.push_back({i});
        }
    }
    if (ready)
        for (std::size_t i : there) ready(i);
    if (!missing.empty())
        http_.fetch(missing, [&](std::size_t d) {
            if (ready)
                for (std::size_t i : waiting[d]) ready(i);
        });
    return paths;
}

}  // namespace dmc::apt

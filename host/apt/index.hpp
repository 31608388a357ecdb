// The packages of one or more Packages indexes, kept compact: only the fields the
// resolver and the downloader use are copied out of the index text, so the text can be
// freed as soon as it is added.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <memory_resource>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dmc::apt {

enum class MultiArch : std::uint8_t { No, Same, Foreign, Allowed };

// Numbered as apt numbers them, so that a smaller number is a more important
// priority; Unknown (no Priority field) sorts first, as in apt.
enum class Priority : std::uint8_t {
    Unknown = 0,
    Required = 1,
    Important = 2,
    Standard = 3,
    Optional = 4,
    Extra = 5
};

// Where an index was downloaded from: the mirror base URL that the package's Filename
// is relative to, and which part of the archive it lists.
struct Origin {
    std::string base_url;  // e.g. "http://mirror/debian" (no trailing slash)
    std::string component;
    std::string suite;  // e.g. "trixie-security"; empty when not known
    std::string arch;
};

// One version of one binary package (one stanza of a Packages file). Relationship
// fields are the raw text; parse them with parse_relations() / for_each_relation().
class Package {
  public:
    std::string_view name() const { return field(kName); }
    std::string_view version() const { return field(kVersion); }
    std::string_view architecture() const { return field(kArchitecture); }  // may be "all"
    std::string_view section() const { return field(kSection); }
    std::string_view source() const;          // the binary's name when there's no Source
    std::string_view source_version() const;  // the version when Source has none
    std::string_view depends() const { return field(kDepends); }
    std::string_view pre_depends() const { return field(kPreDepends); }
    std::string_view recommends() const { return field(kRecommends); }
    std::string_view suggests() const { return field(kSuggests); }
    std::string_view enhances() const { return field(kEnhances); }
    std::string_view provides() const { return field(kProvides); }
    std::string_view conflicts() const { return field(kConflicts); }
    std::string_view breaks() const { return field(kBreaks); }
    std::string_view replaces() const { return field(kReplaces); }
    std::string_view filename() const { return field(kFilename); }
    std::string_view sha256() const { return field(kSha256); }
    std::uint64_t size() const { return size_; }
    std::uint64_t installed_size_kib() const { return installed_size_kib_; }
    MultiArch multi_arch() const { return multi_arch_; }
    Priority priority() const { return priority_; }
    bool essential() const { return flags_ & kEssentialFlag; }
    // "Protected: yes" (formerly "Important: yes"): apt refuses to remove it.
    bool is_protected() const { return flags_ & kProtectedFlag; }
    const Origin& origin() const { return *origin_; }
    std::string url() const;  // origin().base_url + "/" + filename()
    // Position of the stanza among everything added to the index (0, 1, ...).
    std::uint32_t ordinal() const { return ordinal_; }
    // "name version arch", for messages.
    std::string display() const;

  private:
    friend class PackageIndex;
    enum FieldId : std::uint8_t {
        kName,
        kVersion,
        kArchitecture,
        kSection,
        kSource,
        kDepends,
        kPreDepends,
        kRecommends,
        kSuggests,
        kEnhances,
        kProvides,
        kConflicts,
        kBreaks,
        kReplaces,
        kFilename,
        kSha256,
        kFieldCount
    };
    static constexpr std::uint8_t kEssentialFlag = 1;
    static constexpr std::uint8_t kProtectedFlag = 2;

    std::string_view field(FieldId id) const {
        std::uint32_t begin = id == 0 ? 0 : ends_[id - 1];
        return std::string_view(text_ + begin, ends_[id] - begin);
    }

    const char* text_ = nullptr;                     // the record, in the index's arena
    std::array<std::uint32_t, kFieldCount> ends_{};  // field i is [ends_[i-1], ends_[i])
    const Origin* origin_ = nullptr;
    std::uint64_t size_ = 0;
    std::uint32_t installed_size_kib_ = 0;
    std::uint32_t ordinal_ = 0;
    MultiArch multi_arch_ = MultiArch::No;
    Priority priority_ = Priority::Unknown;
    std::uint8_t flags_ = 0;
};

// One "Provides:" entry: `package` provides the name it is filed under.
struct Provider {
    const Package* package;
    std::string_view version;         // the provided version; empty when unversioned
    std::string_view arch_qualifier;  // "pkg:arch" in Provides (rare); usually empty
};

class PackageIndex {
  public:
    PackageIndex();
    ~PackageIndex();
    PackageIndex(const PackageIndex&) = delete;
    PackageIndex& operator=(const PackageIndex&) = delete;
    PackageIndex(PackageIndex&&) noexcept;
    PackageIndex& operator=(PackageIndex&&) noexcept;

    // Adds the stanzas of one Packages file (or of a piece of one that begins at its
    // byte `first_byte`). Only the needed fields are copied: the text may be freed
    // afterwards. base_url is the mirror root that Filename is relative to.
    // Throws dmc::Error on a stanza without Package or Version.
    void add(std::string_view packages_text, std::string_view base_url, std::string_view component,
             std::string_view arch, std::string_view suite = {}, std::uint64_t first_byte = 0);

    // Makes room for the packages of that much index text to come, so that adding it
    // in pieces does not grow the tables piece by piece.
    void reserve(std::size_t text_bytes);

    // Every version of that name, any architecture, highest version first (ties in the
    // order added). Empty when unknown.
    std::span<const Package* const> versions(std::string_view name) const;
    // Every Provides entry naming that (virtual or real) package, in the order added.
    std::span<const Provider> providers(std::string_view name) const;

    bool contains(std::string_view name) const;
    std::size_t size() const;
    // Calls `visit` with every package in the order added (the ordinal order). For a
    // saved index the package and its fields live only until `visit` returns.
    void for_each_package(const std::function<void(const Package&)>& visit) const;
    // Every real package name, unordered.
    std::vector<std::string_view> names() const;
    // Bytes held by the copied fields (for a saved index: in its file), for benchmarks.
    std::size_t arena_bytes() const;

    // The parsed index in a file of its own (written whole or not at all), so that a
    // later run reads it instead of parsing the text again: the records as they are
    // held here, and the names and Provides entries in sorted tables that are
    // searched where they are, so that nothing is rebuilt when it is read.
    // `written_url` gives what is written of each origin's base URL (never a
    // mirror's credentials), `read_url` what it becomes again when read.
    using UrlMap = std::function<std::string(std::string_view)>;
    void save(const std::filesystem::path& file, const UrlMap& written_url) const;
    // An index saved by save(). Only its tables are read at once; a package is read
    // from the file the first time a lookup returns it, so resolving a few hundred
    // packages reads a few hundred records, not the whole archive. nullopt when the
    // file is missing, or of another format, or its tables are damaged: then parse
    // the text again. A record found damaged later throws dmc::Error naming the file.
    static std::optional<PackageIndex> load_saved(const std::filesystem::path& file,
                                                  const UrlMap& read_url);

  private:
    char* allocate(std::size_t bytes);
    void commit(std::array<std::string_view, Package::kFieldCount>& values, Package& pkg,
                const Origin* origin, std::uint64_t offset);

    std::deque<Package> packages_;
    std::deque<Origin> origins_;
    std::vector<std::unique_ptr<char[]>> chunks_;
    char* chunk_pos_ = nullptr;
    std::size_t chunk_left_ = 0;
    std::size_t arena_bytes_ = 0;
    // The tables' nodes and lists come from a pool freed at once with the index:
    // a Debian index has some 65,000 names, each a node and a list. The tables are
    // never walked to free them (that took 10 ms of a cold build's end).
    template <class Table>
    class Pooled {
      public:
        explicit Pooled(std::pmr::memory_resource* pool) { new (&storage_) Table(pool); }
        Pooled(Pooled&& other) noexcept { new (&storage_) Table(std::move(*other)); }
        Pooled& operator=(Pooled&&) = delete;
        ~Pooled() = default;  // not ~Table(): its every allocation goes with the pool
        Table& operator*() { return *std::launder(reinterpret_cast<Table*>(&storage_)); }
        const Table& operator*() const {
            return *std::launder(reinterpret_cast<const Table*>(&storage_));
        }
        Table* operator->() { return &**this; }
        const Table* operator->() const { return &**this; }

      private:
        alignas(Table) std::byte storage_[sizeof(Table)];
    };
    std::unique_ptr<std::pmr::monotonic_buffer_resource> pool_ =
        std::make_unique<std::pmr::monotonic_buffer_resource>();
    Pooled<std::pmr::unordered_map<std::string_view, std::pmr::vector<const Package*>>> by_name_{
        pool_.get()};
    Pooled<std::pmr::unordered_map<std::string_view, std::pmr::vector<Provider>>> providers_{
        pool_.get()};
    struct Saved;
    std::unique_ptr<Saved> saved_;  // set when read from a saved file: the lookups go there
};

// Adds one Packages file to an index as its text comes, in pieces of any size: each
// piece's whole stanzas at once, the last one's rest at finish().
class IndexFeed {
  public:
    IndexFeed(PackageIndex& index, std::string base_url, std::string component, std::string arch,
              std::string suite);
    void add(std::string_view piece);
    void finish();

  private:
    PackageIndex& index_;
    std::string base_url_, component_, arch_, suite_;
    std::string rest_;           // the stanza the last piece ended in
    std::uint64_t rest_at_ = 0;  // where it begins in the file
};

}  // namespace dmc::apt

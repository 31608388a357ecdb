#include "apt/index.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <mutex>

#include "apt/deb822.hpp"  // field_name_equals
#include "apt/relation.hpp"
#include "apt/version.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace dmc::apt {

namespace {

constexpr std::size_t kChunkBytes = std::size_t{4} << 20;

enum class Wanted : std::uint8_t {
    Ignored,
    Field,  // copied into the record
    MultiArch,
    Priority,
    Essential,
    Protected,
    Size,
    InstalledSize
};

struct Dispatch {
    Wanted what = Wanted::Ignored;
    std::uint8_t field = 0;  // Package::FieldId when what == Field
};

// Field names are case-insensitive; the exact spelling used by the archive is tried
// first as it is all but certain.
Dispatch classify(std::string_view name) {
    struct Entry {
        std::string_view name;
        Dispatch dispatch;
    };
    using W = Wanted;
    static constexpr Entry kEntries[] = {
        {"Package", {W::Field, 0}},
        {"Version", {W::Field, 1}},
        {"Architecture", {W::Field, 2}},
        {"Section", {W::Field, 3}},
        {"Source", {W::Field, 4}},
        {"Depends", {W::Field, 5}},
        {"Pre-Depends", {W::Field, 6}},
        {"Recommends", {W::Field, 7}},
        {"Suggests", {W::Field, 8}},
        {"Enhances", {W::Field, 9}},
        {"Provides", {W::Field, 10}},
        {"Conflicts", {W::Field, 11}},
        {"Breaks", {W::Field, 12}},
        {"Replaces", {W::Field, 13}},
        {"Filename", {W::Field, 14}},
        {"SHA256", {W::Field, 15}},
        {"Multi-Arch", {W::MultiArch, 0}},
        {"Priority", {W::Priority, 0}},
        {"Essential", {W::Essential, 0}},
        {"Protected", {W::Protected, 0}},
        {"Important", {W::Protected, 0}},
        {"Size", {W::Size, 0}},
        {"Installed-Size", {W::InstalledSize, 0}},
    };
    for (const Entry& e : kEntries)
        if (e.name.size() == name.size() && e.name[0] == name[0] && e.name == name)
            return e.dispatch;
    for (const Entry& e : kEntries)
        if (field_name_equals(e.name, name)) return e.dispatch;
    return {};
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool is_yes(std::string_view v) { return field_name_equals(v, "yes"); }

std::uint64_t parse_number(std::string_view v) {
    std::uint64_t n = 0;
    std::from_chars(v.data(), v.data() + v.size(), n);
    return n;
}

MultiArch parse_multi_arch(std::string_view v) {
    if (field_name_equals(v, "same")) return MultiArch::Same;
    if (field_name_equals(v, "foreign")) return MultiArch::Foreign;
    if (field_name_equals(v, "allowed")) return MultiArch::Allowed;
    return MultiArch::No;
}

Priority parse_priority(std::string_view v) {
    if (field_name_equals(v, "required")) return Priority::Required;
    if (field_name_equals(v, "important")) return Priority::Important;
    if (field_name_equals(v, "standard")) return Priority::Standard;
    if (field_name_equals(v, "optional")) return Priority::Optional;
    return Priority::Extra;  // apt files every unknown word as extra
}

// Exactly n bytes of the file at `at`, or false.
bool read_exactly(int fd, std::uint64_t at, void* out, std::size_t n) {
    auto* to = static_cast<char*>(out);
    while (n > 0) {
        const ssize_t got = ::pread(fd, to, n, static_cast<off_t>(at));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        to += got;
        at += static_cast<std::uint64_t>(got);
        n -= static_cast<std::size_t>(got);
    }
    return true;
}

}  // namespace

std::string_view Package::source() const {
    std::string_view s = field(kSource);
    if (s.empty()) return name();
    return s.substr(0, s.find(' '));
}

std::string_view Package::source_version() const {
    std::string_view s = field(kSource);
    auto open = s.find('(');
    auto close = s.find(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return version();
    return trim(s.substr(open + 1, close - open - 1));
}

std::string Package::url() const {
    std::string out = origin_ ? origin_->base_url : std::string();
    if (!out.empty() && out.back() != '/') out += '/';
    out += filename();
    return out;
}

std::string Package::display() const {
    std::string out(name());
    out += ' ';
    out += version();
    out += ' ';
    out += architecture();
    return out;
}

// A saved index, read where it lies: its tables are held, each package is read from
// the file when a lookup first returns it. Native byte order and the sizes below: a
// file written by another build of another layout fails the header check and is
// parsed again.
struct PackageIndex::Saved {
    // A name in a sorted table, and its run in the table's list.
    struct Entry {
        std::uint32_t name_at;
        std::uint32_t name_size;
        std::uint32_t first;
        std::uint32_t count;
    };
    struct Table {
        std::string names;           // every name, one after another
        std::vector<Entry> entries;  // by name
        std::string_view name(const Entry& e) const {
            return std::string_view(names).substr(e.name_at, e.name_size);
        }
        const Entry* find(std::string_view wanted) const {
            auto it =
                std::lower_bound(entries.begin(), entries.end(), wanted,
                                 [&](const Entry& e, std::string_view n) { return name(e) < n; });
            if (it == entries.end() || name(*it) != wanted) return nullptr;
            return &*it;
        }
    };
    // A package's fixed fields: where its text starts in the arena, its fields' ends,
    // its origin, size, installed size, Multi-Arch, priority and flags.
    static constexpr std::size_t kRecordBytes = 8 + 4 * Package::kFieldCount + 4 + 8 + 4 + 3;
    // A Provides entry: the provider's ordinal, then where its version and its
    // architecture qualifier lie in the provider's text.
    static constexpr std::size_t kProviderBytes = 5 * 4;

    std::filesystem::path file;
    int fd = -1;
    std::uint64_t body_at = 0;  // where the arena starts: what follows the origins
    std::uint64_t arena_at = 0;
    std::uint64_t arena_size = 0;
    std::uint64_t records_at = 0;
    std::uint64_t whole = 0;
    std::uint32_t count = 0;
    std::deque<Origin> origins;
    Table names_table;
    std::vector<std::uint32_t> versions_list;  // ordinals, highest version first per name
    Table provided_table;
    std::string providers_list;  // kProviderBytes each

    std::mutex mutex;  // guards what follows: lookups may come from several threads
    std::vector<const Package*> by_ordinal;  // the packages read so far
    std::deque<Package> packages;
    std::vector<std::unique_ptr<char[]>> texts;
    std::unordered_map<const Entry*, std::vector<const Package*>> versions_read;
    std::unordered_map<const Entry*, std::vector<Provider>> providers_read;

    Saved() = default;
    Saved(const Saved&) = delete;
    Saved& operator=(const Saved&) = delete;
    ~Saved() {
        if (fd >= 0) ::close(fd);
    }

    [[noreturn]] void damaged(const std::string& what) const {
        throw Error(file.string() + ": the saved parsed index is damaged (" + what +
                    "); remove it and run again");
    }

    bool read_at(std::uint64_t at, void* out, std::size_t n) const {
        return read_exactly(fd, at, out, n);
    }

    // A record's fixed fields into `p`; false when they do not fit the file.
    bool decode(const char* record, std::uint32_t ordinal, Package& p,
                std::uint64_t& text_at) const {
        auto take = [&record](auto& value) {
            std::memcpy(&value, record, sizeof value);
            record += sizeof value;
        };
        take(text_at);
        std::uint32_t previous = 0;
        bool ok = true;
        for (auto& end : p.ends_) {
            take(end);
            ok = ok && end >= previous;
            previous = end;
        }
        std::uint32_t origin = 0;
        std::uint8_t multi_arch = 0;
        std::uint8_t priority = 0;
        take(origin);
        take(p.size_);
        take(p.installed_size_kib_);
        take(multi_arch);
        take(priority);
        take(p.flags_);
        if (!ok || text_at > arena_size || previous > arena_size - text_at ||
            origin >= origins.size() ||
            multi_arch > static_cast<std::uint8_t>(MultiArch::Allowed) ||
            priority > static_cast<std::uint8_t>(Priority::Extra))
            return false;
        p.origin_ = &origins[origin];
        p.multi_arch_ = static_cast<MultiArch>(multi_arch);
        p.priority_ = static_cast<Priority>(priority);
        p.ordinal_ = ordinal;
        return true;
    }

    // The package of that ordinal, read from the file the first time. Under `mutex`.
    const Package* package(std::uint32_t ordinal) {
        if (by_ordinal.empty()) by_ordinal.assign(count, nullptr);
        if (by_ordinal[ordinal] != nullptr) return by_ordinal[ordinal];
        char record[kRecordBytes];
        Package p;
        std::uint64_t text_at = 0;
        if (!read_at(records_at + std::uint64_t{ordinal} * kRecordBytes, record, kRecordBytes) ||
            !decode(record, ordinal, p, text_at))
            damaged("record " + std::to_string(ordinal));
        const std::uint32_t length = p.ends_[Package::kFieldCount - 1];
        auto text = std::make_unique<char[]>(std::max<std::uint32_t>(length, 1));
        if (!read_at(arena_at + text_at, text.get(), length))
            damaged("the text of record " + std::to_string(ordinal));
        p.text_ = text.get();
        texts.push_back(std::move(text));
        packages.push_back(p);
        return by_ordinal[ordinal] = &packages.back();
    }

    // The items of `name` in `table`, made once by `item` (from each item's place in
    // the table's list) and kept in `made`.
    template <class T, class Item>
    std::span<const T> once(const Table& table,
                            std::unordered_map<const Entry*, std::vector<T>>& made,
                            std::string_view name, const Item& item) {
        const Entry* e = table.find(name);
        if (e == nullptr) return {};
        std::lock_guard lock(mutex);
        auto [it, fresh] = made.try_emplace(e);
        if (fresh) {
            try {
                for (std::uint32_t i = 0; i < e->count; ++i)
                    it->second.push_back(item(e->first + i));
            } catch (...) {
                made.erase(it);
                throw;
            }
        }
        return it->second;
    }

    std::span<const Package* const> versions(std::string_view name) {
        return once(names_table, versions_read, name,
                    [&](std::uint32_t at) { return package(versions_list[at]); });
    }

    std::span<const Provider> providers(std::string_view name) {
        return once(provided_table, providers_read, name, [&](std::uint32_t at) {
            std::uint32_t f[5];  // ordinal, version at/size, qualifier at/size
            std::memcpy(f, providers_list.data() + std::size_t{at} * kProviderBytes, sizeof f);
            const Package* p = package(f[0]);
            const std::string_view text(p->text_, p->ends_[Package::kFieldCount - 1]);
            if (f[1] > text.size() || f[2] > text.size() - f[1] || f[3] > text.size() ||
                f[4] > text.size() - f[3])
                damaged("a Provides entry of " + std::string(name));
            return Provider{p, text.substr(f[1], f[2]), text.substr(f[3], f[4])};
        });
    }

    bool contains(std::string_view name) const { return names_table.find(name) != nullptr; }

    std::vector<std::string_view> names() const {
        std::vector<std::string_view> out;
        out.reserve(names_table.entries.size());
        for (const Entry& e : names_table.entries) out.push_back(names_table.name(e));
        return out;
    }

    // Every package in ordinal order, read in blocks: the records and their texts lie
    // in that order in the file.
    void for_each(const std::function<void(const Package&)>& visit) const {
        constexpr std::uint32_t kBlock = 4096;
        std::string records;
        std::string texts_block;
        for (std::uint32_t first = 0; first < count; first += kBlock) {
            const std::uint32_t n = std::min(kBlock, count - first);
            records.resize(std::size_t{n} * kRecordBytes);
            if (!read_at(records_at + std::uint64_t{first} * kRecordBytes, records.data(),
                         records.size()))
                damaged("records from " + std::to_string(first));
            std::vector<Package> block(n);
            std::vector<std::uint64_t> at(n);
            std::uint64_t low = arena_size;
            std::uint64_t high = 0;
            for (std::uint32_t i = 0; i < n; ++i) {
                if (!decode(records.data() + std::size_t{i} * kRecordBytes, first + i, block[i],
                            at[i]))
                    damaged("record " + std::to_string(first + i));
                low = std::min(low, at[i]);
                high = std::max(high, at[i] + block[i].ends_[Package::kFieldCount - 1]);
            }
            texts_block.resize(static_cast<std::size_t>(high - low));
            if (!read_at(arena_at + low, texts_block.data(), texts_block.size()))
                damaged("texts from record " + std::to_string(first));
            for (std::uint32_t i = 0; i < n; ++i) {
                block[i].text_ = texts_block.data() + (at[i] - low);
                visit(block[i]);
            }
        }
    }
};

PackageIndex::PackageIndex() = default;
PackageIndex::~PackageIndex() = default;
PackageIndex::PackageIndex(PackageIndex&&) noexcept = default;
// Not member by member: the tables must leave before the pool they live in.
PackageIndex& PackageIndex::operator=(PackageIndex&& other) noexcept {
    if (this != &other) {
        this->~PackageIndex();
        new (this) PackageIndex(std::move(other));
    }
    return *this;
}

char* PackageIndex::allocate(std::size_t bytes) {
    if (bytes > chunk_left_) {
        std::size_t chunk = std::max(bytes, kChunkBytes);
        chunks_.push_back(std::make_unique<char[]>(chunk));
        chunk_pos_ = chunks_.back().get();
        chunk_left_ = chunk;
    }
    char* out = chunk_pos_;
    chunk_pos_ += bytes;
    chunk_left_ -= bytes;
    arena_bytes_ += bytes;
    return out;
}

void PackageIndex::reserve(std::size_t text_bytes) {
    // An archive index averages about 800 bytes a stanza, and one in ten provides a
    // name. Only a table too small for what comes is grown, once: growing it chunk
    // by chunk would rehash everything it holds each time.
    auto grow = [](auto& table, std::size_t wanted) {
        const double room = static_cast<double>(table.bucket_count()) * table.max_load_factor();
        if (static_cast<double>(wanted) > room) table.reserve(wanted);
    };
    grow(*by_name_, by_name_->size() + text_bytes / 800 + 16);
    grow(*providers_, providers_->size() + text_bytes / 8000 + 16);
}

void PackageIndex::add(std::string_view packages_text, std::string_view base_url,
                       std::string_view component, std::string_view arch, std::string_view suite,
                       std::uint64_t first_byte) {
    std::string base(base_url);
    while (!base.empty() && base.back() == '/') base.pop_back();
    // A file added in pieces has one origin.
    if (origins_.empty() || origins_.back().base_url != base ||
        origins_.back().component != component || origins_.back().suite != suite ||
        origins_.back().arch != arch)
        origins_.push_back(
            Origin{std::move(base), std::string(component), std::string(suite), std::string(arch)});
    const Origin* origin = &origins_.back();
    reserve(packages_text.size());

    // One pass over the text, line by line: a stanza is committed at the blank line (or
    // the end of the text) that closes it. The generic Deb822 reader would walk every
    // stanza twice; this is the hot path of loading an archive.
    const char* const begin = packages_text.data();
    const char* const end = begin + packages_text.size();
    const char* pos = begin;
    const char* stanza_start = nullptr;
    std::array<std::string_view, Package::kFieldCount> values{};
    Package pkg;
    Dispatch pending;  // the field whose value the current line may continue
    const char* value_start = nullptr;
    const char* value_end = nullptr;

    auto finish_field = [&] {
        if (pending.what == Wanted::Ignored) return;
        while (value_end > value_start && is_blank(value_end[-1])) --value_end;
        std::string_view v(value_start, static_cast<std::size_t>(value_end - value_start));
        switch (pending.what) {
            case Wanted::Ignored:
                break;
            case Wanted::Field:
                values[pending.field] = v;
                break;
            case Wanted::MultiArch:
                pkg.multi_arch_ = parse_multi_arch(v);
                break;
            case Wanted::Priority:
                pkg.priority_ = parse_priority(v);
                break;
            case Wanted::Essential:
                if (is_yes(v)) pkg.flags_ |= Package::kEssentialFlag;
                break;
            case Wanted::Protected:
                if (is_yes(v)) pkg.flags_ |= Package::kProtectedFlag;
                break;
            case Wanted::Size:
                pkg.size_ = parse_number(v);
                break;
            case Wanted::InstalledSize:
                pkg.installed_size_kib_ = static_cast<std::uint32_t>(parse_number(v));
                break;
        }
        pending = {};
    };
    auto finish_stanza = [&] {
        finish_field();
        if (stanza_start != nullptr)
            commit(values, pkg, origin,
                   first_byte + static_cast<std::uint64_t>(stanza_start - begin));
        stanza_start = nullptr;
        values = {};
        pkg = Package();
    };

    while (pos < end) {
        const char* nl = static_cast<const char*>(std::memchr(pos, '\n', end - pos));
        const char* line_end = nl ? nl : end;
        const char* next = nl ? nl + 1 : end;
        if (pos == line_end) {
            finish_stanza();
        } else if (*pos == ' ' || *pos == '\t') {
            const char* q = pos;
            while (q < line_end && is_blank(*q)) ++q;
            if (q == line_end)
                finish_stanza();  // a line of blanks separates paragraphs too
            else
                value_end = line_end;  // continuation of the pending field
        } else if (*pos != '#') {
            finish_field();
            const char* colon = static_cast<const char*>(std::memchr(pos, ':', line_end - pos));
            if (colon != nullptr) {
                if (stanza_start == nullptr) stanza_start = pos;
                const char* name_end = colon;
                while (name_end > pos && is_blank(name_end[-1])) --name_end;
                pending = classify(std::string_view(pos, static_cast<std::size_t>(name_end - pos)));
                value_start = colon + 1;
                while (value_start < line_end && is_blank(*value_start)) ++value_start;
                value_end = line_end;
            }
        }
        pos = next;
    }
    finish_stanza();
}

void PackageIndex::commit(std::array<std::string_view, Package::kFieldCount>& values, Package& pkg,
                          const Origin* origin, std::uint64_t offset) {
    pkg.origin_ = origin;
    if (values[Package::kName].empty() || values[Package::kVersion].empty()) {
        throw Error("Packages index from " + origin->base_url + " (" + origin->component + "/" +
                    origin->arch + "): stanza at byte " + std::to_string(offset) +
                    " has no Package or Version field");
    }
    // An arch-less stanza (only seen in hand-written indexes) is for the index's arch.
    if (values[Package::kArchitecture].empty()) values[Package::kArchitecture] = origin->arch;

    std::size_t total = 0;
    for (std::string_view v : values) total += v.size();
    char* record = allocate(total);
    std::size_t at = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!values[i].empty()) std::memcpy(record + at, values[i].data(), values[i].size());
        at += values[i].size();
        pkg.ends_[i] = static_cast<std::uint32_t>(at);
    }
    pkg.text_ = record;
    pkg.ordinal_ = static_cast<std::uint32_t>(packages_.size());
    packages_.push_back(pkg);
    const Package* stored = &packages_.back();

    // Highest version first; equal versions keep the order they were added in.
    auto& versions = (*by_name_)[stored->name()];
    auto pos = std::find_if(versions.begin(), versions.end(), [&](const Package* p) {
        return compare_versions(stored->version(), p->version()) > 0;
    });
    versions.insert(pos, stored);

    if (!stored->provides().empty()) {
        bool ok = for_each_relation(stored->provides(), [&](const RelationView& r, bool) {
            (*providers_)[r.name].push_back(Provider{stored, r.version, r.arch_qualifier});
        });
        if (!ok) {
            throw Error("package " + stored->display() + ": malformed Provides: \"" +
                        std::string(stored->provides()) + "\"");
        }
    }
}

std::span<const Package* const> PackageIndex::versions(std::string_view name) const {
    if (saved_) return saved_->versions(name);
    auto it = by_name_->find(name);
    if (it == by_name_->end()) return {};
    return it->second;
}

std::span<const Provider> PackageIndex::providers(std::string_view name) const {
    if (saved_) return saved_->providers(name);
    auto it = providers_->find(name);
    if (it == providers_->end()) return {};
    return it->second;
}

bool PackageIndex::contains(std::string_view name) const {
    if (saved_) return saved_->contains(name);
    return by_name_->count(name) != 0;
}

void PackageIndex::for_each_package(const std::function<void(const Package&)>& visit) const {
    if (saved_) return saved_->for_each(visit);
    for (const Package& p : packages_) visit(p);
}

std::vector<std::string_view> PackageIndex::names() const {
    if (saved_) return saved_->names();
    std::vector<std::string_view> out;
    out.reserve(by_name_->size());
    for (const auto& [name, versions] : *by_name_) out.push_back(name);
    return out;
}

std::size_t PackageIndex::size() const { return saved_ ? saved_->count : packages_.size(); }

std::size_t PackageIndex::arena_bytes() const {
    return saved_ ? static_cast<std::size_t>(saved_->arena_size) : arena_bytes_;
}

}  // namespace dmc::apt

// The saved file: the header (magic, format, field count), the origins, the arena of
// the records' texts, the fixed records, then two sorted tables (the names with the
// ordinals of their versions, the provided names with their Provides entries), each
// as its entry count, its names, its entries and its list; last, the file's size.
namespace dmc::apt {
namespace {

constexpr char kMagic[16] = {'d', 'm', 'c', '-', 'p', 'a', 'r', 's',
                             'e', 'd', '-', 'i', 'n', 'd', 'e', 'x'};
// 2: origins written without credentials; 3: sorted tables, records read when used.
constexpr std::uint32_t kFormat = 3;

// Bytes `from` to `from` + 8 of `name` as a big-endian number, zeros past its end:
// in the order of the names wherever they differ in those bytes.
std::uint64_t prefix_key(std::string_view name, std::size_t from) {
    if (name.size() >= from + 8) {
        std::uint64_t word;
        std::memcpy(&word, name.data() + from, 8);
        if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
        return word;
    }
    std::uint64_t key = 0;
    for (std::size_t i = from; i < from + 8; ++i)
        key = key << 8 | (i < name.size() ? static_cast<unsigned char>(name[i]) : 0u);
    return key;
}

// Writes the saved file through a buffer of kFlushAt bytes.
struct Writer {
    static constexpr std::size_t kFlushAt = 1 << 20;
    explicit Writer(AtomicFile& to) : file(to) { out.reserve(kFlushAt + 4096); }
    AtomicFile& file;
    std::string out;
    std::uint64_t flushed = 0;
    std::uint64_t size() const { return flushed + out.size(); }
    void flush() {
        file.write(out);
        flushed += out.size();
        out.clear();
    }
    void bytes(std::string_view b) {
        out.append(b);
        if (out.size() >= kFlushAt) flush();
    }
    template <class T>
    void put(T value) {
        bytes(std::string_view(reinterpret_cast<const char*>(&value), sizeof value));
    }
    void text(std::string_view s) {
        put(static_cast<std::uint32_t>(s.size()));
        bytes(s);
    }
    // A sorted table: `runs` holds each name with the number of list items it owns,
    // in the order of the list; `item` writes one list item. The names are sorted
    // by their first 16 bytes as two numbers, which spares most compares a read of
    // the name (they lie all over the index; thousands begin "golang-github-").
    template <class Run, class Item>
    void table(const std::vector<Run>& runs, std::uint64_t items, const Item& item) {
        struct Keyed {
            std::uint64_t first, second;
            const Run* run;
        };
        std::vector<Keyed> sorted;
        sorted.reserve(runs.size());
        for (const Run& r : runs)
            sorted.push_back({prefix_key(r.name, 0), prefix_key(r.name, 8), &r});
        std::sort(sorted.begin(), sorted.end(), [](const Keyed& a, const Keyed& b) {
            if (a.first != b.first) return a.first < b.first;
            if (a.second != b.second) return a.second < b.second;
            return a.run->name < b.run->name;
        });
        put(static_cast<std::uint32_t>(sorted.size()));
        std::uint64_t names = 0;
        for (const Run& r : runs) names += r.name.size();
        put(names);
        for (const Keyed& k : sorted) bytes(k.run->name);
        std::uint32_t name_at = 0;
        std::uint32_t first = 0;
        for (const Keyed& k : sorted) {
            const Run& r = *k.run;
            put(name_at);
            put(static_cast<std::uint32_t>(r.name.size()));
            put(first);
            put(static_cast<std::uint32_t>(r.items->size()));
            name_at += static_cast<std::uint32_t>(r.name.size());
            first += static_cast<std::uint32_t>(r.items->size());
        }
        put(static_cast<std::uint32_t>(items));
        for (const Keyed& k : sorted)
            for (const auto& i : *k.run->items) item(i);
    }
};

// Where `part` lies in `whole` (a field of a record), as an offset and length.
std::pair<std::uint32_t, std::uint32_t> offset_in(std::string_view whole, std::string_view part) {
    if (part.empty()) return {0, 0};
    return {static_cast<std::uint32_t>(part.data() - whole.data()),
            static_cast<std::uint32_t>(part.size())};
}

// Reads the file from the front with pread; every read is checked against its end.
struct Cursor {
    int fd;
    std::uint64_t pos;
    std::uint64_t end;
    bool ok = true;
    bool bytes(void* out, std::uint64_t n) {
        if (!ok || end - pos < n || !read_exactly(fd, pos, out, static_cast<std::size_t>(n)))
            return ok = false;
        pos += n;
        return true;
    }
    template <class T>
    T get() {
        T value{};
        bytes(&value, sizeof value);
        return value;
    }
    std::string string(std::uint64_t n) {
        if (!ok || end - pos < n) {
            ok = false;
            return {};
        }
        std::string out(static_cast<std::size_t>(n), '\0');
        bytes(out.data(), n);
        return out;
    }
    std::string text() { return string(get<std::uint32_t>()); }
    void skip(std::uint64_t n) {
        if (!ok || end - pos < n)
            ok = false;
        else
            pos += n;
    }
};

}  // namespace

void PackageIndex::save(const std::filesystem::path& file_path, const UrlMap& written_url) const {
    AtomicFile file(file_path);
    Writer w(file);
    w.bytes(std::string_view(kMagic, sizeof kMagic));
    w.put(kFormat);
    w.put(static_cast<std::uint32_t>(Package::kFieldCount));
    const auto& origins = saved_ ? saved_->origins : origins_;
    w.put(static_cast<std::uint32_t>(origins.size()));
    for (const Origin& o : origins) {
        w.text(written_url(o.base_url));
        w.text(o.component);
        w.text(o.suite);
        w.text(o.arch);
    }
    if (saved_) {
        // The rest is as read: only the origins' URLs may be written otherwise.
        const std::uint64_t end = saved_->whole - sizeof(std::uint64_t);
        std::string piece(Writer::kFlushAt, '\0');
        for (std::uint64_t at = saved_->body_at; at < end; at += piece.size()) {
            piece.resize(static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), end - at)));
            if (!saved_->read_at(at, piece.data(), piece.size()))
                saved_->damaged("cannot be read again");
            w.bytes(piece);
        }
        w.put(static_cast<std::uint64_t>(w.size() + sizeof(std::uint64_t)));
        w.flush();
        file.commit();
        return;
    }
    std::unordered_map<const Origin*, std::uint32_t> origin_number;
    for (const Origin& o : origins_)
        origin_number.emplace(&o, static_cast<std::uint32_t>(origin_number.size()));
    auto record = [](const Package& p) {
        return std::string_view(p.text_, p.ends_[Package::kFieldCount - 1]);
    };
    std::uint64_t arena = 0;
    for (const Package& p : packages_) arena += record(p).size();
    w.put(arena);
    for (const Package& p : packages_) w.bytes(record(p));
    w.put(static_cast<std::uint32_t>(packages_.size()));
    std::uint64_t at = 0;
    for (const Package& p : packages_) {
        char fixed[Saved::kRecordBytes];
        char* to = fixed;
        auto put = [&to](auto value) {
            std::memcpy(to, &value, sizeof value);
            to += sizeof value;
        };
        put(at);
        at += record(p).size();
        for (std::uint32_t end : p.ends_) put(end);
        put(origin_number.at(p.origin_));
        put(p.size_);
        put(p.installed_size_kib_);
        put(static_cast<std::uint8_t>(p.multi_arch_));
        put(static_cast<std::uint8_t>(p.priority_));
        put(p.flags_);
        if (to != fixed + sizeof fixed) throw Error("a saved package record is not its size");
        w.bytes(std::string_view(fixed, sizeof fixed));
    }
    struct Versions {
        std::string_view name;
        const std::pmr::vector<const Package*>* items;
    };
    std::vector<Versions> names;
    names.reserve(by_name_->size());
    for (const auto& [name, versions] : *by_name_) names.push_back({name, &versions});
    w.table(names, packages_.size(), [&](const Package* p) { w.put(p->ordinal_); });
    struct Provided {
        std::string_view name;
        const std::pmr::vector<Provider>* items;
    };
    std::vector<Provided> provided;
    std::uint64_t entries = 0;
    provided.reserve(providers_->size());
    for (const auto& [name, providers] : *providers_) {
        provided.push_back({name, &providers});
        entries += providers.size();
    }
    w.table(provided, entries, [&](const Provider& pr) {
        const auto version = offset_in(record(*pr.package), pr.version);
        const auto qualifier = offset_in(record(*pr.package), pr.arch_qualifier);
        w.put(pr.package->ordinal_);
        w.put(version.first);
        w.put(version.second);
        w.put(qualifier.first);
        w.put(qualifier.second);
    });
    w.put(static_cast<std::uint64_t>(w.size() + sizeof(std::uint64_t)));  // the whole size
    w.flush();
    file.commit();
}

std::optional<PackageIndex> PackageIndex::load_saved(const std::filesystem::path& file,
                                                     const UrlMap& read_url) {
    auto saved = std::make_unique<Saved>();
    saved->file = file;
    saved->fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (saved->fd < 0) return std::nullopt;
    struct stat st;
    if (::fstat(saved->fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof kMagic + 16))
        return std::nullopt;
    Saved& s = *saved;
    s.whole = static_cast<std::uint64_t>(st.st_size);
    Cursor r{s.fd, s.whole - sizeof(std::uint64_t), s.whole};
    if (r.get<std::uint64_t>() != s.whole) return std::nullopt;
    r = Cursor{s.fd, 0, s.whole - sizeof(std::uint64_t)};
    char magic[sizeof kMagic];
    if (!r.bytes(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0 ||
        r.get<std::uint32_t>() != kFormat || r.get<std::uint32_t>() != Package::kFieldCount)
        return std::nullopt;
    const auto origins = r.get<std::uint32_t>();
    for (std::uint32_t i = 0; i < origins && r.ok; ++i) {
        Origin o;
        o.base_url = read_url(r.text());
        o.component = r.text();
        o.suite = r.text();
        o.arch = r.text();
        s.origins.push_back(std::move(o));
    }
    s.body_at = r.pos;
    s.arena_size = r.get<std::uint64_t>();
    s.arena_at = r.pos;
    r.skip(s.arena_size);
    s.count = r.get<std::uint32_t>();
    s.records_at = r.pos;
    r.skip(std::uint64_t{s.count} * Saved::kRecordBytes);

    // A table's names, entries and list; its entries sorted, inside its names and list.
    auto table = [&](Saved::Table& t, std::size_t item_bytes, std::string& list) {
        const auto entries = r.get<std::uint32_t>();
        const auto names = r.get<std::uint64_t>();
        if (names > std::numeric_limits<std::uint32_t>::max() ||
            std::uint64_t{entries} * sizeof(Saved::Entry) > r.end - r.pos)
            return false;
        t.names = r.string(names);
        t.entries.resize(entries);
        r.bytes(t.entries.data(), std::uint64_t{entries} * sizeof(Saved::Entry));
        const auto items = r.get<std::uint32_t>();
        list = r.string(std::uint64_t{items} * item_bytes);
        if (!r.ok) return false;
        for (std::size_t i = 0; i < t.entries.size(); ++i) {
            const Saved::Entry& e = t.entries[i];
            if (e.name_at > t.names.size() || e.name_size > t.names.size() - e.name_at ||
                e.first > items || e.count > items - e.first ||
                (i > 0 && !(t.name(t.entries[i - 1]) < t.name(e))))
                return false;
        }
        return true;
    };
    std::string versions;
    if (!table(s.names_table, sizeof(std::uint32_t), versions) ||
        !table(s.provided_table, Saved::kProviderBytes, s.providers_list) || r.pos != r.end)
        return std::nullopt;
    s.versions_list.resize(versions.size() / sizeof(std::uint32_t));
    std::memcpy(s.versions_list.data(), versions.data(), versions.size());
    for (std::uint32_t ordinal : s.versions_list)
        if (ordinal >= s.count) return std::nullopt;
    for (std::size_t at = 0; at < s.providers_list.size(); at += Saved::kProviderBytes) {
        std::uint32_t ordinal = 0;
        std::memcpy(&ordinal, s.providers_list.data() + at, sizeof ordinal);
        if (ordinal >= s.count) return std::nullopt;
    }
    PackageIndex index;
    index.saved_ = std::move(saved);
    return index;
}

IndexFeed::IndexFeed(PackageIndex& index, std::string base_url, std::string component,
                     std::string arch, std::string suite)
    : index_(index),
      base_url_(std::move(base_url)),
      component_(std::move(component)),
      arch_(std::move(arch)),
      suite_(std::move(suite)) {}

void IndexFeed::add(std::string_view piece) {
    rest_ += piece;
    std::size_t cut = rest_.rfind("\n\n");
    if (cut == std::string::npos) return;  // no stanza ends in it yet
    cut += 2;
    index_.add(std::string_view(rest_).substr(0, cut), base_url_, component_, arch_, suite_,
               rest_at_);
    rest_.erase(0, cut);
    rest_at_ += cut;
}

void IndexFeed::finish() {
    index_.add(rest_, base_url_, component_, arch_, suite_, rest_at_);
    rest_at_ += rest_.size();
    rest_.clear();
}

}  // namespace dmc::apt

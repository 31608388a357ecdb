#include "apt/index.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "apt/deb822.hpp"  // field_name_equals
#include "apt/relation.hpp"
#include "apt/version.hpp"
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

PackageIndex::PackageIndex() = default;
PackageIndex::~PackageIndex() = default;
PackageIndex::PackageIndex(PackageIndex&&) noexcept = default;
PackageIndex& PackageIndex::operator=(PackageIndex&&) noexcept = default;

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
    grow(by_name_, by_name_.size() + text_bytes / 800 + 16);
    grow(providers_, providers_.size() + text_bytes / 8000 + 16);
}

void PackageIndex::add(std::string_view packages_text, std::string_view base_url,
                       std::string_view component, std::string_view arch, std::string_view suite) {
    std::string base(base_url);
    while (!base.empty() && base.back() == '/') base.pop_back();
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
            commit(values, pkg, origin, static_cast<std::size_t>(stanza_start - begin));
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
                          const Origin* origin, std::size_t offset) {
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
    auto& versions = by_name_[stored->name()];
    auto pos = std::find_if(versions.begin(), versions.end(), [&](const Package* p) {
        return compare_versions(stored->version(), p->version()) > 0;
    });
    versions.insert(pos, stored);

    if (!stored->provides().empty()) {
        bool ok = for_each_relation(stored->provides(), [&](const RelationView& r, bool) {
            providers_[r.name].push_back(Provider{stored, r.version, r.arch_qualifier});
        });
        if (!ok) {
            throw Error("package " + stored->display() + ": malformed Provides: \"" +
                        std::string(stored->provides()) + "\"");
        }
    }
}

std::span<const Package* const> PackageIndex::versions(std::string_view name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return {};
    return it->second;
}

std::span<const Provider> PackageIndex::providers(std::string_view name) const {
    auto it = providers_.find(name);
    if (it == providers_.end()) return {};
    return it->second;
}

std::vector<std::string_view> PackageIndex::names() const {
    std::vector<std::string_view> out;
    out.reserve(by_name_.size());
    for (const auto& [name, versions] : by_name_) out.push_back(name);
    return out;
}

}  // namespace dmc::apt

// The saved index. Native byte order and the sizes below: a file written by another
// build of another layout fails the header check and is parsed again.
namespace dmc::apt {
namespace {

constexpr char kMagic[16] = {'d', 'm', 'c', '-', 'p', 'a', 'r', 's',
                             'e', 'd', '-', 'i', 'n', 'd', 'e', 'x'};
constexpr std::uint32_t kFormat = 2;  // 2: origins written without credentials

struct Writer {
    std::string out;
    template <class T>
    void put(T value) {
        out.append(reinterpret_cast<const char*>(&value), sizeof value);
    }
    void text(std::string_view s) {
        put(static_cast<std::uint32_t>(s.size()));
        out.append(s);
    }
};

// Reads the mapped file from the front; every read is checked against its end.
struct Reader {
    const char* pos;
    const char* end;
    bool ok = true;
    template <class T>
    T get() {
        T value{};
        if (static_cast<std::size_t>(end - pos) < sizeof value) {
            ok = false;
            return value;
        }
        std::memcpy(&value, pos, sizeof value);
        pos += sizeof value;
        return value;
    }
    std::string_view bytes(std::uint64_t n) {
        if (static_cast<std::uint64_t>(end - pos) < n) {
            ok = false;
            return {};
        }
        std::string_view out(pos, static_cast<std::size_t>(n));
        pos += n;
        return out;
    }
    std::string_view text() { return bytes(get<std::uint32_t>()); }
};

// Where `part` lies in `whole` (a field of a record), as an offset and length.
std::pair<std::uint32_t, std::uint32_t> offset_in(std::string_view whole, std::string_view part) {
    if (part.empty()) return {0, 0};
    return {static_cast<std::uint32_t>(part.data() - whole.data()),
            static_cast<std::uint32_t>(part.size())};
}

}  // namespace

void PackageIndex::save(const std::filesystem::path& file, const UrlMap& written_url) const {
    Writer w;
    w.out.append(kMagic, sizeof kMagic);
    w.put(kFormat);
    w.put(static_cast<std::uint32_t>(Package::kFieldCount));
    w.put(static_cast<std::uint32_t>(origins_.size()));
    for (const Origin& o : origins_) {
        w.text(written_url(o.base_url));
        w.text(o.component);
        w.text(o.suite);
        w.text(o.arch);
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
    w.out.reserve(w.out.size() + arena + packages_.size() * 96 + by_name_.size() * 32);
    for (const Package& p : packages_) w.out.append(record(p));
    w.put(static_cast<std::uint32_t>(packages_.size()));
    std::uint64_t at = 0;
    for (const Package& p : packages_) {
        w.put(at);
        at += record(p).size();
        for (std::uint32_t end : p.ends_) w.put(end);
        w.put(origin_number.at(p.origin_));
        w.put(p.size_);
        w.put(p.installed_size_kib_);
        w.put(static_cast<std::uint8_t>(p.multi_arch_));
        w.put(static_cast<std::uint8_t>(p.priority_));
        w.put(p.flags_);
    }
    w.put(static_cast<std::uint32_t>(by_name_.size()));
    for (const auto& [name, versions] : by_name_) {
        w.text(name);
        w.put(static_cast<std::uint32_t>(versions.size()));
        for (const Package* p : versions) w.put(p->ordinal_);
    }
    w.put(static_cast<std::uint32_t>(providers_.size()));
    for (const auto& [name, providers] : providers_) {
        w.text(name);
        w.put(static_cast<std::uint32_t>(providers.size()));
        for (const Provider& pr : providers) {
            w.put(pr.package->ordinal_);
            const auto version = offset_in(record(*pr.package), pr.version);
            const auto qualifier = offset_in(record(*pr.package), pr.arch_qualifier);
            w.put(version.first);
            w.put(version.second);
            w.put(qualifier.first);
            w.put(qualifier.second);
        }
    }
    w.put(static_cast<std::uint64_t>(w.out.size() + sizeof(std::uint64_t)));  // the whole size
    write_file_atomic(file, w.out);
}

std::optional<PackageIndex> PackageIndex::load_saved(const std::filesystem::path& file,
                                                     const UrlMap& read_url) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat st;
    void* mapped = MAP_FAILED;
    if (::fstat(fd, &st) == 0 && st.st_size > 0)
        mapped =
            ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (mapped == MAP_FAILED) return std::nullopt;
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size < sizeof kMagic + 4 * sizeof(std::uint64_t)) {
        ::munmap(mapped, size);
        return std::nullopt;
    }
    std::shared_ptr<const void> mapping(
        mapped, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
    const char* begin = static_cast<const char*>(mapped);
    Reader r{begin, begin + size};
    std::uint64_t whole = 0;
    std::memcpy(&whole, begin + size - sizeof whole, sizeof whole);
    if (whole != size || std::memcmp(r.bytes(sizeof kMagic).data(), kMagic, sizeof kMagic) != 0 ||
        r.get<std::uint32_t>() != kFormat || r.get<std::uint32_t>() != Package::kFieldCount)
        return std::nullopt;

    PackageIndex index;
    index.mapping_ = std::move(mapping);
    const auto origins = r.get<std::uint32_t>();
    for (std::uint32_t i = 0; i < origins && r.ok; ++i) {
        Origin o;
        o.base_url = read_url(r.text());
        o.component = r.text();
        o.suite = r.text();
        o.arch = r.text();
        index.origins_.push_back(std::move(o));
    }
    const auto arena_bytes = r.get<std::uint64_t>();
    const std::string_view arena = r.bytes(arena_bytes);
    const auto count = r.get<std::uint32_t>();
    const char* const records_begin = r.pos;
    for (std::uint32_t i = 0; i < count && r.ok; ++i) {
        Package p;
        const auto at = r.get<std::uint64_t>();
        std::uint32_t previous = 0;
        for (auto& end : p.ends_) {
            end = r.get<std::uint32_t>();
            r.ok = r.ok && end >= previous;
            previous = end;
        }
        const auto origin = r.get<std::uint32_t>();
        p.size_ = r.get<std::uint64_t>();
        p.installed_size_kib_ = r.get<std::uint32_t>();
        const auto multi_arch = r.get<std::uint8_t>();
        const auto priority = r.get<std::uint8_t>();
        p.flags_ = r.get<std::uint8_t>();
        if (!r.ok || at > arena.size() || previous > arena.size() - at || origin >= origins ||
            multi_arch > static_cast<std::uint8_t>(MultiArch::Allowed) ||
            priority > static_cast<std::uint8_t>(Priority::Extra))
            return std::nullopt;
        p.text_ = arena.data() + at;
        p.origin_ = &index.origins_[origin];
        p.multi_arch_ = static_cast<MultiArch>(multi_arch);
        p.priority_ = static_cast<Priority>(priority);
        p.ordinal_ = i;
        index.packages_.push_back(p);
    }
    index.arena_bytes_ = arena.size();
    // The fixed records were copied into the packages: their pages are not needed in
    // memory any more (the file keeps them, should they be read again).
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const auto from = (static_cast<std::size_t>(records_begin - begin) + page - 1) / page * page;
    const auto to = static_cast<std::size_t>(r.pos - begin) / page * page;
    if (r.ok && to > from) ::madvise(static_cast<char*>(mapped) + from, to - from, MADV_DONTNEED);
    auto package = [&](std::uint32_t ordinal) -> const Package* {
        if (ordinal >= index.packages_.size()) {
            r.ok = false;
            return nullptr;
        }
        return &index.packages_[ordinal];
    };
    const auto names = r.get<std::uint32_t>();
    index.by_name_.reserve(names);
    for (std::uint32_t i = 0; i < names && r.ok; ++i) {
        const std::string_view name = r.text();
        std::vector<const Package*> versions(r.get<std::uint32_t>());
        if (!r.ok || versions.size() > index.packages_.size()) return std::nullopt;
        for (auto& v : versions) v = package(r.get<std::uint32_t>());
        index.by_name_.emplace(name, std::move(versions));
    }
    const auto provided = r.get<std::uint32_t>();
    index.providers_.reserve(provided);
    for (std::uint32_t i = 0; i < provided && r.ok; ++i) {
        const std::string_view name = r.text();
        std::vector<Provider> providers(r.get<std::uint32_t>());
        if (!r.ok || providers.size() > index.packages_.size()) return std::nullopt;
        for (auto& pr : providers) {
            pr.package = package(r.get<std::uint32_t>());
            std::uint32_t fields[4];
            for (auto& f : fields) f = r.get<std::uint32_t>();
            if (!r.ok) return std::nullopt;
            const std::string_view record(pr.package->text_,
                                          pr.package->ends_[Package::kFieldCount - 1]);
            if (fields[0] > record.size() || fields[1] > record.size() - fields[0] ||
                fields[2] > record.size() || fields[3] > record.size() - fields[2])
                return std::nullopt;
            pr.version = record.substr(fields[0], fields[1]);
            pr.arch_qualifier = record.substr(fields[2], fields[3]);
        }
        index.providers_.emplace(name, std::move(providers));
    }
    r.get<std::uint64_t>();  // the size, checked above
    if (!r.ok || r.pos != r.end) return std::nullopt;
    return index;
}

}  // namespace dmc::apt

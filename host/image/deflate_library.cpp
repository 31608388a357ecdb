#include "image/deflate_library.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "image/deflate_symbols.hpp"
#include "util/sha256.hpp"

namespace dmc::image::deflate {

namespace {

// A cut where the top 14 bits of a gear hash are 0: pieces of 16 KiB on average.
// The hash shifts one bit a byte, so those bits depend on the last 64 bytes.
constexpr std::uint64_t kCutBits = ~std::uint64_t{0} << 50;
constexpr std::uint64_t kHistory = 64;
// No piece is longer: a long run without a cut is cut every 64 KiB from the last.
constexpr std::uint64_t kLongest = 1u << 16;

const std::array<std::uint64_t, 256>& gear() {
    static const auto table = [] {
        std::array<std::uint64_t, 256> t{};
        std::uint64_t x = 0;
        for (auto& v : t) {  // splitmix64
            x += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            v = z ^ (z >> 31);
        }
        return t;
    }();
    return table;
}

struct Library {
    std::mutex mutex;
    std::deque<std::shared_ptr<const Recorded>> kept;
    std::size_t bytes = 0;
    // The first 8 bytes of a piece's digest -> (parse, piece).
    std::unordered_multimap<std::uint64_t, std::pair<const Recorded*, std::size_t>> pieces;
};

Library& library() {
    static Library l;
    return l;
}

std::uint64_t key(const Piece& p) {
    std::uint64_t k = 0;
    std::memcpy(&k, p.digest.data(), sizeof k);
    return k;
}

}  // namespace

std::vector<Piece> cut_pieces(const std::uint8_t* w, std::uint64_t off, std::uint64_t available,
                              std::uint64_t begin, std::uint64_t end) {
    const auto& g = gear();
    std::vector<Piece> pieces;
    // Cuts from the first one at or after `begin`.
    const std::uint64_t warm = begin > kHistory ? begin - kHistory : 0;
    if (warm < off) return pieces;
    std::uint64_t h = 0;
    for (std::uint64_t p = warm; p < begin; ++p) h = (h << 1) + g[w[p - off]];
    std::uint64_t p = begin;
    while (p < available && (h & kCutBits) != 0) h = (h << 1) + g[w[p++ - off]];
    if (p >= available || p >= end) return pieces;
    std::uint64_t start = p;
    while (start < end) {
        // The next cut: where the hash says, or kLongest on.
        std::uint64_t q = start;
        bool cut = false;
        while (q < available && q - start < kLongest) {
            h = (h << 1) + g[w[q++ - off]];
            if ((h & kCutBits) == 0) {
                cut = true;
                break;
            }
        }
        if (!cut && q - start < kLongest) break;  // ran out of bytes
        Piece piece;
        piece.pos = start;
        piece.length = static_cast<std::uint32_t>(q - start);
        piece.digest = sha256_bytes(w + (start - off), piece.length);
        pieces.push_back(piece);
        start = q;
    }
    return pieces;
}

namespace {

// A step from `p`; returns the byte after it.
std::size_t read_step(const std::vector<std::uint8_t>& steps, std::size_t p, Recorded::Step& step) {
    std::uint32_t literals = 0;
    for (int shift = 0;; shift += 7) {
        const std::uint8_t b = steps[p++];
        literals |= std::uint32_t{b & 0x7fu} << shift;
        if (!(b & 0x80)) break;
    }
    step.literals = literals;
    const std::uint32_t distance = steps[p + 1] | (std::uint32_t{steps[p + 2]} << 8);
    step.length = distance == 0 ? 0 : steps[p] + kMinMatch;
    step.distance = distance;
    return p + 3;
}

}  // namespace

void Recorded::add_run(std::uint64_t pos, const std::uint32_t* symbols, std::size_t count) {
    Run run;
    run.pos = pos;
    std::uint32_t literals = 0;
    std::size_t n = 0;
    auto step = [&](std::uint32_t s) {
        if (n++ % kMarkEvery == 0) run.marks.emplace_back(run.steps.size(), pos);
        for (std::uint32_t v = literals;; v >>= 7) {
            run.steps.push_back(static_cast<std::uint8_t>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
            if (v < 0x80) break;
        }
        run.steps.push_back(static_cast<std::uint8_t>(s));
        run.steps.push_back(static_cast<std::uint8_t>(distance_of(s)));
        run.steps.push_back(static_cast<std::uint8_t>(distance_of(s) >> 8));
        pos += literals + span(s) * (s != 0);
        literals = 0;
    };
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint32_t s = symbols[i];
        if (s & kSlide) continue;
        if (is_match(s))
            step(s);
        else
            ++literals;
    }
    if (literals > 0) step(0);
    run.steps.shrink_to_fit();
    runs_.push_back(std::move(run));
}

void Recorded::add_pieces(const std::vector<Piece>& pieces) {
    pieces_.insert(pieces_.end(), pieces.begin(), pieces.end());
}

std::size_t Recorded::bytes() const {
    std::size_t n = pieces_.size() * sizeof(Piece);
    for (const auto& run : runs_) n += run.steps.size() + run.marks.size() * sizeof(run.marks[0]);
    return n;
}

std::optional<Recorded::Cursor> Recorded::after_match(std::uint64_t pos) const {
    auto r = std::upper_bound(runs_.begin(), runs_.end(), pos,
                              [](std::uint64_t p, const Run& run) { return p < run.pos; });
    if (r == runs_.begin()) return std::nullopt;
    --r;
    const Run& run = *r;
    if (run.marks.empty()) return std::nullopt;
    auto m = std::upper_bound(run.marks.begin(), run.marks.end(), pos,
                              [](std::uint64_t p, const auto& mark) { return p < mark.second; });
    --m;
    std::size_t at = m->first;
    std::uint64_t p = m->second;
    Step step;
    while (at < run.steps.size() && p <= pos) {
        // A step begins right after a match, but for the run's first one.
        if (p == pos && at > 0) return Cursor{static_cast<std::size_t>(r - runs_.begin()), at, p};
        at = read_step(run.steps, at, step);
        p += step.literals + step.length;
    }
    return std::nullopt;
}

bool Recorded::next(Cursor& cursor, Step& step) const {
    if (cursor.at == runs_[cursor.run].steps.size()) {
        if (cursor.run + 1 == runs_.size() || runs_[cursor.run + 1].pos != cursor.pos) return false;
        ++cursor.run;
        cursor.at = 0;
    }
    cursor.at = read_step(runs_[cursor.run].steps, cursor.at, step);
    cursor.pos += step.literals + step.length;
    return true;
}

std::vector<Region> shared_regions(const std::vector<Piece>& pieces, int level) {
    Library& l = library();
    std::lock_guard lock(l.mutex);
    std::vector<Region> regions;
    const Recorded* from = nullptr;
    std::size_t from_piece = 0;
    for (const Piece& piece : pieces) {
        // The region goes on where the earlier input goes on alike.
        if (from != nullptr && !regions.empty() && regions.back().end == piece.pos &&
            from_piece + 1 < from->pieces().size() &&
            from->pieces()[from_piece + 1].digest == piece.digest &&
            from->pieces()[from_piece + 1].pos ==
                from->pieces()[from_piece].pos + from->pieces()[from_piece].length) {
            ++from_piece;
            regions.back().end += piece.length;
            continue;
        }
        from = nullptr;
        const auto [first, last] = l.pieces.equal_range(key(piece));
        for (auto it = first; it != last; ++it) {
            const auto [parse, index] = it->second;
            if (parse->level() != level || parse->pieces()[index].digest != piece.digest) continue;
            from = parse;
            from_piece = index;
            break;
        }
        if (from == nullptr) continue;
        std::shared_ptr<const Recorded> owner;
        for (const auto& kept : l.kept)
            if (kept.get() == from) owner = kept;
        regions.push_back(
            {piece.pos, piece.pos + piece.length, owner, from->pieces()[from_piece].pos});
    }
    return regions;
}

void remember(std::shared_ptr<const Recorded> parse, std::size_t budget) {
    Library& l = library();
    std::lock_guard lock(l.mutex);
    for (std::size_t i = 0; i < parse->pieces().size(); ++i)
        l.pieces.emplace(key(parse->pieces()[i]), std::pair{parse.get(), i});
    l.bytes += parse->bytes();
    l.kept.push_back(std::move(parse));
    while (l.bytes > budget && !l.kept.empty()) {
        const Recorded* gone = l.kept.front().get();
        for (auto it = l.pieces.begin(); it != l.pieces.end();)
            it = it->second.first == gone ? l.pieces.erase(it) : std::next(it);
        l.bytes -= gone->bytes();
        l.kept.pop_front();
    }
}

void forget_all() {
    Library& l = library();
    std::lock_guard lock(l.mutex);
    l.pieces.clear();
    l.kept.clear();
    l.bytes = 0;
}

}  // namespace dmc::image::deflate

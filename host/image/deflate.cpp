#include "image/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <thread>
#include <vector>

#include "util/error.hpp"

// The parse follows zlib 1.2.13's deflate_slow, longest_match and fill_window, and
// the coding its trees.c, with zlib's names where they help to compare. Positions
// are absolute in the input; zlib's sliding window is kept only as the one fact
// of it that reaches the output: where the window starts (`base`), which decides
// whether a block can be stored and which position counts as NIL.

namespace dmc::image {

namespace {

constexpr std::uint32_t kWSize = 32768;
constexpr std::uint32_t kWMask = kWSize - 1;
constexpr std::uint32_t kWindowSize = 2 * kWSize;
constexpr std::uint32_t kMinMatch = 3;
constexpr std::uint32_t kMaxMatch = 258;
constexpr std::uint32_t kMinLookahead = kMaxMatch + kMinMatch + 1;
constexpr std::uint32_t kMaxDist = kWSize - kMinLookahead;
constexpr std::uint32_t kHashSize = 1u << 15;  // memLevel 8
constexpr std::uint32_t kHashMask = kHashSize - 1;
constexpr std::uint32_t kTooFar = 4096;
constexpr std::size_t kBlockSymbols = (std::size_t{1} << 14) - 1;  // lit_bufsize - 1
// Bytes read past a position: a match's 258 and the 8 of a word compare.
constexpr std::size_t kPadding = 512;
// Before a stretch: the 32 KiB its hash chains need and the 64 KiB a stored block
// can reach back.
constexpr std::uint64_t kBefore = 3 * kWSize;
// After a stretch and its overlap, so that zlib's window is full over all of it.
constexpr std::uint64_t kAfter = kWindowSize + 1024;

struct Config {
    std::uint32_t good, lazy, nice, chain;
};
constexpr Config kConfig[10] = {{0, 0, 0, 0},        {4, 4, 8, 4},      {4, 5, 16, 8},
                                {4, 6, 32, 32},      {4, 4, 16, 16},    {8, 16, 32, 32},
                                {8, 16, 128, 128},   {8, 32, 128, 256}, {32, 128, 258, 1024},
                                {32, 258, 258, 4096}};

// A symbol: a literal byte, or a match (length - 3 in the low byte, distance above);
// or a mark that zlib's window slid; or the literal zlib adds after its loop.
constexpr std::uint32_t kSlide = 1u << 31;
constexpr std::uint32_t kAfterLoop = 1u << 30;

// Equal leading bytes of a and b, at most `max` (a multiple of 8).
inline std::uint32_t common(const std::uint8_t* a, const std::uint8_t* b, std::uint32_t max) {
    for (std::uint32_t i = 0; i < max; i += 8) {
        std::uint64_t x, y;
        std::memcpy(&x, a + i, 8);
        std::memcpy(&y, b + i, 8);
        if (const std::uint64_t d = x ^ y; d != 0)
            return i + static_cast<std::uint32_t>(__builtin_ctzll(d) >> 3);
    }
    return max;
}

// The parse's state at the top of zlib's loop.
struct State {
    std::uint64_t pos = 0;
    std::uint32_t match_length = kMinMatch - 1;
    std::uint64_t match_start = 0;
    bool available = false;
    std::uint64_t base = 0;  // where zlib's window starts
};

// A loop top with nothing but (maybe) a literal pending: two parses in this state
// at the same position go on alike.
struct Mark {
    std::uint64_t pos;
    bool available;
    std::size_t symbol;  // symbols before it
};

struct Stretch {
    // Input bytes [off, off + bytes.size() - kPadding).
    std::vector<std::uint8_t> bytes;
    std::uint64_t off = 0;
    std::uint64_t begin = 0, end = 0;  // the stretch; parsed up to end + overlap
    std::uint64_t overlap = 0;
    bool last = false;  // runs to the end of the input, `size`
    std::uint64_t size = 0;
    bool fresh = true;  // begins in a fresh state, not one carried over
    State from;

    std::vector<std::uint32_t> symbols;
    std::vector<Mark> head, tail;  // marks in [begin, begin + overlap), [end, end + overlap)
    State stop;                    // where a stretch not last stopped
};

void parse(Stretch& job, const Config& config) {
    const std::uint8_t* w = job.bytes.data();
    const std::uint64_t off = job.off;
    auto rel = [off](std::uint64_t abs) { return static_cast<std::uint32_t>(abs - off); };
    // Positions below are in the copy, w[]; zlib's window starts at `base`, a
    // multiple of 32 KiB as `off` is. The hash chains hold positions relative to
    // it, as zlib's do: 0, the window's first byte, stands for none.
    std::uint32_t base = rel(job.from.base);
    std::vector<std::uint16_t> heads(kHashSize, 0), prevs(kWSize, 0);
    std::uint16_t* const head = heads.data();
    std::uint16_t* const prev = prevs.data();
    // Positions go in one after the other, so the hash rolls, as zlib's does.
    std::uint32_t ins_h = 0;
    auto insert = [&](std::uint32_t p) {
        ins_h = ((ins_h << 5) ^ w[p + 2]) & kHashMask;
        const std::uint16_t old = head[ins_h];
        prev[p & kWMask] = old;
        head[ins_h] = static_cast<std::uint16_t>(p - base);
        return old;
    };
    auto slide = [&] {
        for (auto& v : heads) v = static_cast<std::uint16_t>(v >= kWSize ? v - kWSize : 0);
        for (auto& v : prevs) v = static_cast<std::uint16_t>(v >= kWSize ? v - kWSize : 0);
        base += kWSize;
    };
    // Every position before the start is in zlib's chains; the 32 KiB back are all
    // a search can reach.
    const std::uint32_t from = rel(job.from.pos);
    {
        const std::uint32_t p = std::max(from > kWSize ? from - kWSize : 0, base);
        ins_h = (std::uint32_t{w[p]} << 5) ^ w[p + 1];
    }
    for (std::uint32_t p = std::max(from > kWSize ? from - kWSize : 0, base); p < from; ++p)
        insert(p);

    const std::int64_t size = job.last ? static_cast<std::int64_t>(job.size - off)
                                       : std::numeric_limits<std::int64_t>::max() / 2;
    std::uint32_t t = from;
    std::uint32_t match_length = job.from.match_length;
    std::uint32_t match_start = job.from.match_start >= off ? rel(job.from.match_start) : 0;
    bool available = job.from.available;
    const std::uint32_t stop =
        job.last ? std::numeric_limits<std::uint32_t>::max() : rel(job.end + job.overlap);
    const std::uint32_t head_end = rel(job.begin) + static_cast<std::uint32_t>(job.overlap);
    const std::uint32_t tail_begin = rel(job.end);
    auto& symbols = job.symbols;
    symbols.reserve((job.end - job.begin) / 3);

    for (;;) {
        if (t >= stop) {
            job.stop = {t + off, match_length, match_start + off, available, base + off};
            break;
        }
        if (match_length == kMinMatch - 1) {
            if (job.fresh && t < head_end) job.head.push_back({t + off, available, symbols.size()});
            if (!job.last && t >= tail_begin)
                job.tail.push_back({t + off, available, symbols.size()});
        }
        // fill_window: the window holds [base, base + 64 KiB) of the input and
        // slides by 32 KiB when the lookahead runs short late in it.
        std::int64_t lookahead = std::min<std::int64_t>(size, base + kWindowSize) - t;
        if (lookahead < kMinLookahead) {
            if (t - base >= kWSize + kMaxDist) {
                slide();
                symbols.push_back(kSlide);
                lookahead = std::min<std::int64_t>(size, base + kWindowSize) - t;
            }
            if (lookahead == 0) break;
        }
        std::uint32_t hash_head = 0;
        if (lookahead >= kMinMatch) hash_head = insert(t);

        const std::uint32_t strstart = t - base;
        const std::uint32_t prev_length = match_length;
        const std::uint32_t prev_match = match_start;
        match_length = kMinMatch - 1;
        if (hash_head != 0 && prev_length < config.lazy && strstart - hash_head <= kMaxDist) {
            // longest_match
            const std::uint8_t* window = w + base;
            const std::uint8_t* scan = window + strstart;
            const std::uint32_t limit = strstart > kMaxDist ? strstart - kMaxDist : 0;
            std::uint32_t chain = config.chain;
            std::uint32_t best = prev_length;
            std::uint32_t nice = config.nice;
            if (prev_length >= config.good) chain >>= 2;
            if (nice > lookahead) nice = static_cast<std::uint32_t>(lookahead);
            std::uint32_t cur = hash_head;
            std::uint8_t scan_end1 = scan[best - 1];
            std::uint8_t scan_end = scan[best];
            do {
                const std::uint8_t* match = window + cur;
                if (match[best] != scan_end || match[best - 1] != scan_end1 ||
                    match[0] != scan[0] || match[1] != scan[1])
                    continue;
                const std::uint32_t len = 2 + common(scan + 2, match + 2, kMaxMatch - 2);
                if (len > best) {
                    match_start = cur + base;
                    best = len;
                    if (len >= nice) break;
                    scan_end1 = scan[best - 1];
                    scan_end = scan[best];
                }
            } while ((cur = prev[cur & kWMask]) > limit && --chain != 0);
            match_length = best <= lookahead ? best : static_cast<std::uint32_t>(lookahead);
            if (match_length == kMinMatch && t - match_start > kTooFar)
                match_length = kMinMatch - 1;
        }
        if (prev_length >= kMinMatch && match_length <= prev_length) {
            symbols.push_back((prev_length - kMinMatch) | ((t - 1 - prev_match) << 8));
            const std::int64_t max_insert = t + lookahead - kMinMatch;
            for (std::uint32_t p = t + 1; p <= t + prev_length - 2; ++p)
                if (p <= max_insert) insert(p);
            available = false;
            match_length = kMinMatch - 1;
            t += prev_length - 1;
        } else if (available) {
            symbols.push_back(w[t - 1]);
            ++t;
        } else {
            available = true;
            ++t;
        }
    }
    if (job.last && available) symbols.push_back(w[t - 1] | kAfterLoop);
}

// trees.c: the blocks' Huffman codes, written LSB first.
constexpr int kLengthCodes = 29, kLiterals = 256, kLCodes = kLiterals + 1 + kLengthCodes;
constexpr int kDCodes = 30, kBLCodes = 19, kHeapSize = 2 * kLCodes + 1, kMaxBits = 15;
constexpr int kMaxBLBits = 7, kEndBlock = 256, kRep3_6 = 16, kRepz3_10 = 17, kRepz11_138 = 18;
constexpr int kExtraLBits[kLengthCodes] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                           2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr int kExtraDBits[kDCodes] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                      6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
constexpr int kExtraBLBits[kBLCodes] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7};
constexpr std::uint8_t kBLOrder[kBLCodes] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                             11, 4,  12, 3, 13, 2, 14, 1, 15};

// zlib's ct_data: frequency and code share a field, as do parent and length.
struct Node {
    std::uint16_t fc = 0;  // Freq / Code
    std::uint16_t dl = 0;  // Dad / Len
};

struct StaticDesc {
    const int* extra_bits;
    int extra_base, elems, max_length;
};

struct Tables {
    Node ltree[kLCodes + 2];
    Node dtree[kDCodes];
    std::uint8_t dist_code[512];
    std::uint8_t length_code[kMaxMatch - kMinMatch + 1];
    int base_length[kLengthCodes];
    int base_dist[kDCodes];
    StaticDesc l_desc, d_desc, bl_desc;
};

unsigned bi_reverse(unsigned code, int len) {
    unsigned res = 0;
    do {
        res |= code & 1;
        code >>= 1, res <<= 1;
    } while (--len > 0);
    return res >> 1;
}

void gen_codes(Node* tree, int max_code, const std::uint16_t* bl_count) {
    std::uint16_t next_code[kMaxBits + 1];
    unsigned code = 0;
    for (int bits = 1; bits <= kMaxBits; bits++) {
        code = (code + bl_count[bits - 1]) << 1;
        next_code[bits] = static_cast<std::uint16_t>(code);
    }
    for (int n = 0; n <= max_code; n++) {
        const int len = tree[n].dl;
        if (len == 0) continue;
        tree[n].fc = static_cast<std::uint16_t>(bi_reverse(next_code[len]++, len));
    }
}

const Tables& tables() {
    static const Tables t = [] {
        Tables s{};
        int length = 0, code = 0;
        for (code = 0; code < kLengthCodes - 1; code++) {
            s.base_length[code] = length;
            for (int n = 0; n < (1 << kExtraLBits[code]); n++)
                s.length_code[length++] = static_cast<std::uint8_t>(code);
        }
        s.length_code[length - 1] = static_cast<std::uint8_t>(code);
        int dist = 0;
        for (code = 0; code < 16; code++) {
            s.base_dist[code] = dist;
            for (int n = 0; n < (1 << kExtraDBits[code]); n++)
                s.dist_code[dist++] = static_cast<std::uint8_t>(code);
        }
        dist >>= 7;
        for (; code < kDCodes; code++) {
            s.base_dist[code] = dist << 7;
            for (int n = 0; n < (1 << (kExtraDBits[code] - 7)); n++)
                s.dist_code[256 + dist++] = static_cast<std::uint8_t>(code);
        }
        std::uint16_t bl_count[kMaxBits + 1] = {};
        int n = 0;
        while (n <= 143) s.ltree[n++].dl = 8, bl_count[8]++;
        while (n <= 255) s.ltree[n++].dl = 9, bl_count[9]++;
        while (n <= 279) s.ltree[n++].dl = 7, bl_count[7]++;
        while (n <= 287) s.ltree[n++].dl = 8, bl_count[8]++;
        gen_codes(s.ltree, kLCodes + 1, bl_count);
        for (n = 0; n < kDCodes; n++) {
            s.dtree[n].dl = 5;
            s.dtree[n].fc = static_cast<std::uint16_t>(bi_reverse(static_cast<unsigned>(n), 5));
        }
        return s;
    }();
    return t;
}

const StaticDesc kLDesc{kExtraLBits, kLiterals + 1, kLCodes, kMaxBits};
const StaticDesc kDDesc{kExtraDBits, 0, kDCodes, kMaxBits};
const StaticDesc kBLDesc{kExtraBLBits, 0, kBLCodes, kMaxBLBits};

// Codes symbols into blocks as zlib's _tr_flush_block does.
class Coder {
  public:
    explicit Coder(const ByteSink& sink) : sink_(sink), t_(tables()) { init_block(); }

    void put_byte(std::uint8_t b) {
        room(1);
        out_[used_++] = b;
    }

    // Adds a parse's symbols; the input's bytes are at w[pos - off].
    void add(const std::uint32_t* symbols, std::size_t count, const std::uint8_t* w,
             std::uint64_t off) {
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint32_t s = symbols[i];
            if (s & kSlide) {
                base_ += kWSize;
                continue;
            }
            const std::uint32_t dist = (s >> 8) & 0xffff;
            const std::uint32_t lc = s & 0xff;
            if (dist == 0) {
                ltree_[lc].fc++;
                pos_ += 1;
            } else {
                ltree_[t_.length_code[lc] + kLiterals + 1].fc++;
                dtree_[d_code(dist - 1)].fc++;
                pos_ += lc + kMinMatch;
            }
            block_[block_size_++] = s;
            if (!(s & kAfterLoop) && block_size_ == kBlockSymbols) flush_block(false, w, off);
        }
        if (used_ >= (std::size_t{1} << 18)) drain();
    }

    void finish(const std::uint8_t* w, std::uint64_t off) { flush_block(true, w, off); }

    void drain() {
        if (used_ > 0) sink_(out_.data(), used_);
        used_ = 0;
    }

  private:
    std::uint8_t d_code(std::uint32_t dist) const {
        return dist < 256 ? t_.dist_code[dist] : t_.dist_code[256 + (dist >> 7)];
    }

    // Room for n more bytes of output.
    void room(std::size_t n) {
        if (out_.size() < used_ + n) out_.resize(std::max(2 * out_.size(), used_ + n));
    }
    // Writes after room() for them: a block's codes take at most 6 bytes a symbol.
    [[gnu::always_inline]] void send_bits(std::uint32_t value, int length) {
        bits_ |= std::uint64_t{value} << count_;
        count_ += length;
        if (count_ >= 32) {
            std::uint8_t* o = out_.data() + used_;
            o[0] = static_cast<std::uint8_t>(bits_);
            o[1] = static_cast<std::uint8_t>(bits_ >> 8);
            o[2] = static_cast<std::uint8_t>(bits_ >> 16);
            o[3] = static_cast<std::uint8_t>(bits_ >> 24);
            used_ += 4;
            bits_ >>= 32;
            count_ -= 32;
        }
    }
    [[gnu::always_inline]] void send_code(int c, const Node* tree) {
        send_bits(tree[c].fc, tree[c].dl);
    }
    void windup() {
        room(8);
        while (count_ > 0) {
            out_[used_++] = static_cast<std::uint8_t>(bits_);
            bits_ >>= 8;
            count_ = count_ > 8 ? count_ - 8 : 0;
        }
        bits_ = 0;
        count_ = 0;
    }

    void init_block() {
        for (int n = 0; n < kLCodes; n++) ltree_[n].fc = 0;
        for (int n = 0; n < kDCodes; n++) dtree_[n].fc = 0;
        for (int n = 0; n < kBLCodes; n++) bltree_[n].fc = 0;
        ltree_[kEndBlock].fc = 1;
        opt_len_ = static_len_ = 0;
        block_size_ = 0;
    }

    bool smaller(const Node* tree, int n, int m) const {
        return tree[n].fc < tree[m].fc || (tree[n].fc == tree[m].fc && depth_[n] <= depth_[m]);
    }

    void pqdownheap(const Node* tree, int k) {
        const int v = heap_[k];
        int j = k << 1;
        while (j <= heap_len_) {
            if (j < heap_len_ && smaller(tree, heap_[j + 1], heap_[j])) j++;
            if (smaller(tree, v, heap_[j])) break;
            heap_[k] = heap_[j];
            k = j;
            j <<= 1;
        }
        heap_[k] = v;
    }

    void gen_bitlen(Node* tree, int max_code, const Node* stree, const StaticDesc& desc) {
        const int* extra = desc.extra_bits;
        const int base = desc.extra_base;
        const int max_length = desc.max_length;
        int overflow = 0;
        for (int bits = 0; bits <= kMaxBits; bits++) bl_count_[bits] = 0;
        tree[heap_[heap_max_]].dl = 0;
        int h;
        for (h = heap_max_ + 1; h < kHeapSize; h++) {
            const int n = heap_[h];
            int bits = tree[tree[n].dl].dl + 1;
            if (bits > max_length) bits = max_length, overflow++;
            tree[n].dl = static_cast<std::uint16_t>(bits);
            if (n > max_code) continue;
            bl_count_[bits]++;
            int xbits = 0;
            if (n >= base) xbits = extra[n - base];
            const std::uint16_t f = tree[n].fc;
            opt_len_ += std::uint64_t{f} * static_cast<unsigned>(bits + xbits);
            if (stree) static_len_ += std::uint64_t{f} * static_cast<unsigned>(stree[n].dl + xbits);
        }
        if (overflow == 0) return;
        do {
            int bits = max_length - 1;
            while (bl_count_[bits] == 0) bits--;
            bl_count_[bits]--;
            bl_count_[bits + 1] += 2;
            bl_count_[max_length]--;
            overflow -= 2;
        } while (overflow > 0);
        for (int bits = max_length; bits != 0; bits--) {
            int n = bl_count_[bits];
            while (n != 0) {
                const int m = heap_[--h];
                if (m > max_code) continue;
                if (static_cast<unsigned>(tree[m].dl) != static_cast<unsigned>(bits)) {
                    opt_len_ += (static_cast<std::uint64_t>(bits) - tree[m].dl) * tree[m].fc;
                    tree[m].dl = static_cast<std::uint16_t>(bits);
                }
                n--;
            }
        }
    }

    // Returns max_code.
    int build_tree(Node* tree, const Node* stree, const StaticDesc& desc) {
        const int elems = desc.elems;
        int max_code = -1;
        heap_len_ = 0, heap_max_ = kHeapSize;
        for (int n = 0; n < elems; n++) {
            if (tree[n].fc != 0) {
                heap_[++heap_len_] = max_code = n;
                depth_[n] = 0;
            } else {
                tree[n].dl = 0;
            }
        }
        while (heap_len_ < 2) {
            const int node = heap_[++heap_len_] = (max_code < 2 ? ++max_code : 0);
            tree[node].fc = 1;
            depth_[node] = 0;
            opt_len_--;
            if (stree) static_len_ -= stree[node].dl;
        }
        for (int n = heap_len_ / 2; n >= 1; n--) pqdownheap(tree, n);
        int node = elems;
        do {
            const int n = heap_[1];
            heap_[1] = heap_[heap_len_--];
            pqdownheap(tree, 1);
            const int m = heap_[1];
            heap_[--heap_max_] = n;
            heap_[--heap_max_] = m;
            tree[node].fc = static_cast<std::uint16_t>(tree[n].fc + tree[m].fc);
            depth_[node] =
                static_cast<std::uint8_t>((depth_[n] >= depth_[m] ? depth_[n] : depth_[m]) + 1);
            tree[n].dl = tree[m].dl = static_cast<std::uint16_t>(node);
            heap_[1] = node++;
            pqdownheap(tree, 1);
        } while (heap_len_ >= 2);
        heap_[--heap_max_] = heap_[1];
        gen_bitlen(tree, max_code, stree, desc);
        gen_codes(tree, max_code, bl_count_);
        return max_code;
    }

    void scan_tree(Node* tree, int max_code) {
        int prevlen = -1, nextlen = tree[0].dl, count = 0, max_count = 7, min_count = 4;
        if (nextlen == 0) max_count = 138, min_count = 3;
        tree[max_code + 1].dl = 0xffff;
        for (int n = 0; n <= max_code; n++) {
            const int curlen = nextlen;
            nextlen = tree[n + 1].dl;
            if (++count < max_count && curlen == nextlen) {
                continue;
            } else if (count < min_count) {
                bltree_[curlen].fc = static_cast<std::uint16_t>(bltree_[curlen].fc + count);
            } else if (curlen != 0) {
                if (curlen != prevlen) bltree_[curlen].fc++;
                bltree_[kRep3_6].fc++;
            } else if (count <= 10) {
                bltree_[kRepz3_10].fc++;
            } else {
                bltree_[kRepz11_138].fc++;
            }
            count = 0;
            prevlen = curlen;
            if (nextlen == 0) {
                max_count = 138, min_count = 3;
            } else if (curlen == nextlen) {
                max_count = 6, min_count = 3;
            } else {
                max_count = 7, min_count = 4;
            }
        }
    }

    void send_tree(const Node* tree, int max_code) {
        int prevlen = -1, nextlen = tree[0].dl, count = 0, max_count = 7, min_count = 4;
        if (nextlen == 0) max_count = 138, min_count = 3;
        for (int n = 0; n <= max_code; n++) {
            const int curlen = nextlen;
            nextlen = tree[n + 1].dl;
            if (++count < max_count && curlen == nextlen) {
                continue;
            } else if (count < min_count) {
                do {
                    send_code(curlen, bltree_);
                } while (--count != 0);
            } else if (curlen != 0) {
                if (curlen != prevlen) {
                    send_code(curlen, bltree_);
                    count--;
                }
                send_code(kRep3_6, bltree_);
                send_bits(static_cast<std::uint32_t>(count - 3), 2);
            } else if (count <= 10) {
                send_code(kRepz3_10, bltree_);
                send_bits(static_cast<std::uint32_t>(count - 3), 3);
            } else {
                send_code(kRepz11_138, bltree_);
                send_bits(static_cast<std::uint32_t>(count - 11), 7);
            }
            count = 0;
            prevlen = curlen;
            if (nextlen == 0) {
                max_count = 138, min_count = 3;
            } else if (curlen == nextlen) {
                max_count = 6, min_count = 3;
            } else {
                max_count = 7, min_count = 4;
            }
        }
    }

    void compress_block(const Node* ltree, const Node* dtree) {
        for (std::size_t i = 0; i < block_size_; ++i) {
            const std::uint32_t s = block_[i];
            std::uint32_t dist = (s >> 8) & 0xffff;
            int lc = static_cast<int>(s & 0xff);
            if (dist == 0) {
                send_code(lc, ltree);
            } else {
                int code = t_.length_code[lc];
                send_code(code + kLiterals + 1, ltree);
                int extra = kExtraLBits[code];
                if (extra != 0) {
                    lc -= t_.base_length[code];
                    send_bits(static_cast<std::uint32_t>(lc), extra);
                }
                dist--;
                code = d_code(dist);
                send_code(code, dtree);
                extra = kExtraDBits[code];
                if (extra != 0) {
                    dist -= static_cast<std::uint32_t>(t_.base_dist[code]);
                    send_bits(dist, extra);
                }
            }
        }
        send_code(kEndBlock, ltree);
    }

    void flush_block(bool last, const std::uint8_t* w, std::uint64_t off) {
        const std::uint64_t stored_len = pos_ - block_start_;
        const bool have_bytes = block_start_ >= base_;
        const int l_max = build_tree(ltree_, t_.ltree, kLDesc);
        const int d_max = build_tree(dtree_, t_.dtree, kDDesc);
        scan_tree(ltree_, l_max);
        scan_tree(dtree_, d_max);
        build_tree(bltree_, nullptr, kBLDesc);
        int max_blindex;
        for (max_blindex = kBLCodes - 1; max_blindex >= 3; max_blindex--)
            if (bltree_[kBLOrder[max_blindex]].dl != 0) break;
        opt_len_ += 3 * (static_cast<std::uint64_t>(max_blindex) + 1) + 5 + 5 + 4;
        std::uint64_t opt_lenb = (opt_len_ + 3 + 7) >> 3;
        const std::uint64_t static_lenb = (static_len_ + 3 + 7) >> 3;
        if (static_lenb <= opt_lenb) opt_lenb = static_lenb;
        const std::uint32_t lastbit = last ? 1 : 0;
        room(stored_len + 6 * block_size_ + 1024);
        if (stored_len + 4 <= opt_lenb && have_bytes) {
            send_bits(lastbit, 3);  // STORED_BLOCK << 1
            windup();
            const auto len = static_cast<std::uint16_t>(stored_len);
            const auto nlen = static_cast<std::uint16_t>(~len);
            put_byte(static_cast<std::uint8_t>(len));
            put_byte(static_cast<std::uint8_t>(len >> 8));
            put_byte(static_cast<std::uint8_t>(nlen));
            put_byte(static_cast<std::uint8_t>(nlen >> 8));
            std::memcpy(out_.data() + used_, w + (block_start_ - off), stored_len);
            used_ += stored_len;
        } else if (static_lenb == opt_lenb) {
            send_bits((1u << 1) + lastbit, 3);  // STATIC_TREES
            compress_block(t_.ltree, t_.dtree);
        } else {
            send_bits((2u << 1) + lastbit, 3);  // DYN_TREES
            const int lcodes = l_max + 1, dcodes = d_max + 1, blcodes = max_blindex + 1;
            send_bits(static_cast<std::uint32_t>(lcodes - 257), 5);
            send_bits(static_cast<std::uint32_t>(dcodes - 1), 5);
            send_bits(static_cast<std::uint32_t>(blcodes - 4), 4);
            for (int rank = 0; rank < blcodes; rank++) send_bits(bltree_[kBLOrder[rank]].dl, 3);
            send_tree(ltree_, lcodes - 1);
            send_tree(dtree_, dcodes - 1);
            compress_block(ltree_, dtree_);
        }
        init_block();
        block_start_ = pos_;
        if (last) windup();
    }

    const ByteSink& sink_;
    const Tables& t_;
    Node ltree_[kHeapSize];
    Node dtree_[2 * kDCodes + 1];
    Node bltree_[2 * kBLCodes + 1];
    std::uint16_t bl_count_[kMaxBits + 1] = {};
    int heap_[2 * kLCodes + 1] = {};
    int heap_len_ = 0, heap_max_ = 0;
    std::uint8_t depth_[2 * kLCodes + 1] = {};
    std::uint64_t opt_len_ = 0, static_len_ = 0;
    std::vector<std::uint32_t> block_ = std::vector<std::uint32_t>(kBlockSymbols + 1);
    std::size_t block_size_ = 0;
    std::uint64_t bits_ = 0;
    int count_ = 0;
    std::vector<std::uint8_t> out_;
    std::size_t used_ = 0;
    std::uint64_t pos_ = 0, block_start_ = 0, base_ = 0;
};

}  // namespace

struct ParallelGzip::Impl {
    Impl(int level, ByteSink s, DeflateOptions o)
        : config(kConfig[level]), sink(std::move(s)), options(o), coder(sink) {
        if (options.threads == 0)
            options.threads = std::max(1u, std::thread::hardware_concurrency());
        if (options.stretch % kWSize != 0 || options.stretch < kWindowSize ||
            options.overlap == 0 || options.overlap > options.stretch)
            throw Error("deflate: the stretch must be a multiple of 32 KiB of at least 64 KiB");
        const std::uint8_t header[10] = {
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(level == 9 ? 2 : 0), 255};
        for (auto b : header) coder.put_byte(b);
    }

    struct Job {
        std::shared_ptr<Stretch> stretch;
        std::shared_future<void> done;
    };

    Config config;
    ByteSink sink;
    DeflateOptions options;
    Coder coder;
    std::vector<std::uint8_t> input;  // input[0] is byte input_off
    std::uint64_t input_off = 0, total = 0, next = 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    std::deque<Job> jobs;
    std::size_t cut = 0;  // the front job's symbols before this are coded
    std::size_t reparsed = 0;
    bool finished = false;

    std::shared_ptr<Stretch> make(std::uint64_t begin, std::uint64_t end, bool last) const {
        auto s = std::make_shared<Stretch>();
        s->begin = begin;
        s->end = end;
        s->last = last;
        s->size = total;
        s->overlap = options.overlap;
        s->off = begin > kBefore ? begin - kBefore : 0;
        const std::uint64_t upto = last ? total : end + options.overlap + 1024;
        s->bytes.resize(upto - s->off + kPadding);
        std::memcpy(s->bytes.data(), input.data() + (s->off - input_off), upto - s->off);
        // A fresh start: nothing pending; zlib's window starts 32 KiB back.
        s->from.pos = begin;
        s->from.base = begin >= kWSize ? begin - kWSize : 0;
        s->fresh = begin > 0;
        return s;
    }

    void submit(std::uint64_t end, bool last) {
        auto s = make(next, end, last);
        next = end;
        Job job{s, {}};
        if (options.threads == 1) {
            parse(*s, config);
            std::promise<void> p;
            p.set_value();
            job.done = p.get_future().share();
        } else {
            job.done = std::async(std::launch::async, [s, c = config] { parse(*s, c); }).share();
        }
        jobs.push_back(std::move(job));
        // Keep what the next stretch needs before it.
        const std::uint64_t keep = next > kBefore ? next - kBefore : 0;
        if (keep > input_off) {
            input.erase(input.begin(),
                        input.begin() + static_cast<std::ptrdiff_t>(keep - input_off));
            input_off = keep;
        }
    }

    // Codes the front job up to where the next one takes over.
    void code_front() {
        Job& a = jobs[0];
        Job& b = jobs[1];
        a.done.get();
        b.done.get();
        Stretch& x = *a.stretch;
        Stretch& y = *b.stretch;
        std::size_t i = 0, j = 0;
        while (i < x.tail.size() && j < y.head.size()) {
            if (x.tail[i].pos < y.head[j].pos) {
                ++i;
            } else if (y.head[j].pos < x.tail[i].pos) {
                ++j;
            } else if (x.tail[i].available != y.head[j].available) {
                ++i, ++j;
            } else {
                break;
            }
        }
        if (i < x.tail.size() && j < y.head.size()) {
            coder.add(x.symbols.data() + cut, x.tail[i].symbol - cut, x.bytes.data(), x.off);
            cut = y.head[j].symbol;
        } else {
            // The parses never met: parse the next stretch again from where this
            // one stopped, in its exact state.
            ++reparsed;
            coder.add(x.symbols.data() + cut, x.symbols.size() - cut, x.bytes.data(), x.off);
            y.symbols.clear();
            y.head.clear();
            y.tail.clear();
            y.fresh = false;
            y.from = x.stop;
            parse(y, config);
            cut = 0;
        }
        jobs.pop_front();
    }

    void write(const std::uint8_t* data, std::size_t size) {
        crc = crc32_z(crc, data, size);
        input.insert(input.end(), data, data + size);
        total += size;
        while (total >= next + options.stretch + options.overlap + kAfter) {
            submit(next + options.stretch, false);
            while (jobs.size() > options.threads + 1) code_front();
        }
        // Code what is ready without waiting.
        while (jobs.size() >= 2 &&
               jobs[1].done.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
               jobs[0].done.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
            code_front();
    }

    void finish() {
        if (finished) throw Error("deflate: finish called twice");
        finished = true;
        submit(total, true);
        while (jobs.size() >= 2) code_front();
        Job& a = jobs[0];
        a.done.get();
        Stretch& x = *a.stretch;
        coder.add(x.symbols.data() + cut, x.symbols.size() - cut, x.bytes.data(), x.off);
        coder.finish(x.bytes.data(), x.off);
        jobs.clear();
        const std::uint64_t n = total;
        const std::uint8_t trailer[8] = {
            static_cast<std::uint8_t>(crc),       static_cast<std::uint8_t>(crc >> 8),
            static_cast<std::uint8_t>(crc >> 16), static_cast<std::uint8_t>(crc >> 24),
            static_cast<std::uint8_t>(n),         static_cast<std::uint8_t>(n >> 8),
            static_cast<std::uint8_t>(n >> 16),   static_cast<std::uint8_t>(n >> 24)};
        for (auto b : trailer) coder.put_byte(b);
        coder.drain();
        input.clear();
        input.shrink_to_fit();
    }
};

ParallelGzip::ParallelGzip(int level, ByteSink sink, DeflateOptions options) {
    if (level < 4 || level > 9)
        throw Error("zlib-exact parallel gzip is for levels 4 to 9, not " + std::to_string(level));
    impl_ = std::make_unique<Impl>(level, std::move(sink), options);
}

ParallelGzip::~ParallelGzip() {
    if (impl_) {
        for (auto& job : impl_->jobs)
            if (job.done.valid()) job.done.wait();
    }
}

void ParallelGzip::write(const void* data, std::size_t size) {
    impl_->write(static_cast<const std::uint8_t*>(data), size);
}

void ParallelGzip::finish() { impl_->finish(); }

std::size_t ParallelGzip::reparsed() const { return impl_->reparsed; }

}  // namespace dmc::image

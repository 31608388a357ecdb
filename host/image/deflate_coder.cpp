#include "image/deflate_coder.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "image/deflate_symbols.hpp"

// zlib 1.2.13's trees.c, with its names where they help to compare.

namespace dmc::image::deflate {

namespace {

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

}  // namespace

class BlockCoder::Impl {
  public:
    explicit Impl(const ByteSink& sink) : sink_(sink), t_(tables()) { init_block(); }

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

    // zlib's scan_tree and send_tree walk the code lengths alike: each run of one
    // length, cut where the repeat codes need, goes to run(length, count, the
    // length before, the shortest count a repeat code takes).
    template <class F>
    static void length_runs(const Node* tree, int max_code, F&& run) {
        int prevlen = -1, nextlen = tree[0].dl, count = 0, max_count = 7, min_count = 4;
        if (nextlen == 0) max_count = 138, min_count = 3;
        for (int n = 0; n <= max_code; n++) {
            const int curlen = nextlen;
            nextlen = tree[n + 1].dl;
            if (++count < max_count && curlen == nextlen) continue;
            run(curlen, count, prevlen, min_count);
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

    void scan_tree(Node* tree, int max_code) {
        tree[max_code + 1].dl = 0xffff;  // a guard
        length_runs(tree, max_code, [this](int curlen, int count, int prevlen, int min_count) {
            if (count < min_count) {
                bltree_[curlen].fc = static_cast<std::uint16_t>(bltree_[curlen].fc + count);
            } else if (curlen != 0) {
                if (curlen != prevlen) bltree_[curlen].fc++;
                bltree_[kRep3_6].fc++;
            } else if (count <= 10) {
                bltree_[kRepz3_10].fc++;
            } else {
                bltree_[kRepz11_138].fc++;
            }
        });
    }

    void send_tree(const Node* tree, int max_code) {
        length_runs(tree, max_code, [this](int curlen, int count, int prevlen, int min_count) {
            if (count < min_count) {
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
        });
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

BlockCoder::BlockCoder(const ByteSink& sink) : impl_(std::make_unique<Impl>(sink)) {}
BlockCoder::~BlockCoder() = default;
void BlockCoder::put_byte(std::uint8_t b) { impl_->put_byte(b); }
void BlockCoder::add(const std::uint32_t* symbols, std::size_t count, const std::uint8_t* w,
                     std::uint64_t off) {
    impl_->add(symbols, count, w, off);
}
void BlockCoder::finish(const std::uint8_t* w, std::uint64_t off) { impl_->finish(w, off); }
void BlockCoder::drain() { impl_->drain(); }

}  // namespace dmc::image::deflate

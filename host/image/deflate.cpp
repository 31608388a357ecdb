#include "image/deflate.hpp"

#include <malloc.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <thread>
#include <vector>

#include "image/deflate_coder.hpp"
#include "image/deflate_library.hpp"
#include "image/deflate_symbols.hpp"
#include "util/error.hpp"
#include "util/parallel.hpp"

// The parse follows zlib 1.2.13's deflate_slow, longest_match and fill_window, with
// zlib's names where they help to compare; the blocks are coded in
// deflate_coder.cpp. The input stays where it is; of zlib's sliding window only
// what reaches the output is kept: where it starts (`base`), which decides whether
// a block can be stored and which position counts as NIL, and the hash chains,
// which hold positions relative to it as zlib's do.

namespace dmc::image {

using namespace deflate;

namespace {

constexpr std::uint32_t kHashSize = 1u << 15;  // memLevel 8
constexpr std::uint32_t kHashMask = kHashSize - 1;
constexpr std::uint32_t kTooFar = 4096;
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

inline std::uint16_t two_bytes(const std::uint8_t* p) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

// zlib's longest_match: the longest match for `scan` (window + strstart) along the
// hash chain from `cur`, longer than `best`, in at most `chain` steps, stopping at
// `nice` or past kMaxDist. Returns the length found (`best` when none is longer)
// and sets `start` (relative to the window) when one is. A function of its own, as
// zlib's is, so that its loop keeps every value in a register.
[[gnu::noinline]] std::uint32_t longest_match(const std::uint8_t* window, const std::uint16_t* prev,
                                              std::uint32_t strstart, std::uint32_t cur,
                                              std::uint32_t best, std::uint32_t chain,
                                              std::uint32_t nice, std::uint32_t& start) {
    const std::uint8_t* scan = window + strstart;
    const std::uint32_t limit = strstart > kMaxDist ? strstart - kMaxDist : 0;
    const std::uint16_t scan_start = two_bytes(scan);
    std::uint16_t scan_end = two_bytes(scan + best - 1);
    do {
        const std::uint8_t* match = window + cur;
        // The two bytes at the end of the best match so far, then the first two: the
        // third is equal where these are, as the hash of the three is.
        if (two_bytes(match + best - 1) != scan_end || two_bytes(match) != scan_start) continue;
        const std::uint32_t len = 2 + common(scan + 2, match + 2, kMaxMatch - 2);
        if (len > best) {
            start = cur;
            best = len;
            if (len >= nice) break;
            scan_end = two_bytes(scan + best - 1);
        }
    } while ((cur = prev[cur & kWMask]) > limit && --chain != 0);
    return best;
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

    // The pieces that begin in [begin, end), and the regions earlier inputs share.
    std::vector<Piece> pieces;
    std::vector<Region> regions;

    std::vector<std::uint32_t> symbols;
    // zlib's hash chains (head, prev), kept with the stretch so that a parse does
    // not allocate them.
    std::vector<std::uint16_t> heads = std::vector<std::uint16_t>(kHashSize);
    std::vector<std::uint16_t> prevs = std::vector<std::uint16_t>(kWSize);
    std::vector<Mark> head, tail;  // marks in [begin, begin + overlap), [end, end + overlap)
    State stop;                    // where a stretch not last stopped
    std::uint64_t reused = 0;      // bytes whose symbols came from an earlier parse
    // Set once the parse is past the head marks (or failed), so that the stretch
    // before can be coded while this one's parse goes on.
    std::promise<void> heads_known;
    bool heads_told = false;
    void tell_heads() {
        if (heads_told) return;
        heads_told = true;
        heads_known.set_value();
    }
};

// Finds what earlier inputs share with the stretch, from 40 KiB before it: a
// region is taken over only 32 KiB into it.
void look_up(Stretch& job, int level) {
    const std::uint64_t available = job.off + job.bytes.size() - kPadding;
    const std::uint64_t before = std::max(job.begin > 40960 ? job.begin - 40960 : 0, job.off + 64);
    auto pieces =
        cut_pieces(job.bytes.data(), job.off, available, std::min(before, job.begin), job.end);
    job.regions = shared_regions(pieces, level);
    std::erase_if(pieces, [&](const Piece& p) { return p.pos < job.begin; });
    job.pieces = std::move(pieces);
}

void parse(Stretch& job, const Config& config) {
    const std::uint8_t* w = job.bytes.data();
    const std::uint64_t off = job.off;
    auto rel = [off](std::uint64_t abs) { return static_cast<std::uint32_t>(abs - off); };
    // Positions below are in the copy, w[]; zlib's window starts at `base`, a
    // multiple of 32 KiB as `off` is. The hash chains hold positions relative to
    // it, as zlib's do: 0, the window's first byte, stands for none.
    std::uint32_t base = rel(job.from.base);
    auto& heads = job.heads;
    auto& prevs = job.prevs;
    std::fill(heads.begin(), heads.end(), std::uint16_t{0});
    std::fill(prevs.begin(), prevs.end(), std::uint16_t{0});
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

    // Where an earlier parse may be taken over: past the marks (the seams need the
    // stretch's own parse there) and, as in the earlier input, where zlib's window
    // is full.
    const std::uint64_t reuse_from = std::max<std::uint64_t>(job.begin + job.overlap, 3 * kWSize);
    const std::uint64_t reuse_to = job.last ? (job.size > kAfter ? job.size - kAfter : 0) : job.end;
    std::size_t region = 0;
    std::uint64_t next_try = 0;
    // Takes over the earlier parse of region R at t, where this parse has just
    // ended a match and the earlier one too: both then go on alike while the
    // bytes are alike. Returns whether it did.
    auto take_over = [&](const Region& r, std::uint64_t until) {
        const Recorded& earlier = *r.from;
        const std::uint64_t at = t + off;
        const std::uint64_t a = r.from_pos + (at - r.begin);
        const std::uint64_t a_until = std::min(
            r.from_pos + (until - r.begin), earlier.size() > kAfter ? earlier.size() - kAfter : 0);
        if (a < 3 * kWSize || a >= a_until) return false;
        auto cursor = earlier.after_match(a);
        if (!cursor) return false;
        // zlib's window slides at the first loop top at or past this; a symbol is
        // written at the loop top after its first byte.
        std::uint32_t slide_at = base + kWSize + kMaxDist + 1;
        std::uint32_t x = t;
        const std::size_t start = symbols.size();
        const std::uint32_t start_base = base;
        std::size_t kept = start;
        std::uint32_t kept_t = t, kept_base = base;
        auto put = [&](std::uint32_t s) {
            if (x + 1 >= slide_at) {
                symbols.push_back(kSlide);
                base += kWSize;
                slide_at += kWSize;
            }
            symbols.push_back(s);
        };
        Recorded::Step step;
        while (earlier.next(*cursor, step) && cursor->pos <= a_until) {
            // The match must stand for these bytes: a wrong take-over (a bug, or
            // pieces that only hash alike) never reaches the output.
            if (step.length != 0) {
                const std::uint32_t m = x + step.literals;
                if (step.distance > m - base ||
                    std::memcmp(w + m, w + m - step.distance, step.length) != 0) {
                    kept = start, kept_t = t, kept_base = start_base;
                    break;
                }
            }
            for (std::uint32_t k = 0; k < step.literals; ++k, ++x) put(literal(w[x]));
            if (step.length == 0) continue;
            put(match(step.length, step.distance));
            x += step.length;
            kept = symbols.size(), kept_t = x, kept_base = base;
        }
        symbols.resize(kept);
        base = kept_base;
        if (kept_t == t) return false;
        job.reused += kept_t - t;
        t = kept_t;
        // The chains as zlib has them here: every position of the last 32 KiB.
        std::fill(heads.begin(), heads.end(), std::uint16_t{0});
        std::fill(prevs.begin(), prevs.end(), std::uint16_t{0});
        const std::uint32_t p0 = std::max(t - kWSize, base);
        ins_h = (std::uint32_t{w[p0]} << 5) ^ w[p0 + 1];
        for (std::uint32_t p = p0; p < t; ++p) insert(p);
        return true;
    };

    for (;;) {
        if (t >= head_end) job.tell_heads();
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
        if (match_length == kMinMatch - 1 && !available && region < job.regions.size() &&
            t + off >= next_try) {
            const std::uint64_t at = t + off;
            while (region < job.regions.size() && at + 1024 >= job.regions[region].end) ++region;
            if (region < job.regions.size()) {
                const Region& r = job.regions[region];
                const std::uint64_t until = std::min(r.end - 1024, reuse_to);
                if (at >= std::max(r.begin + kWSize + 512, reuse_from) && at + 4096 < until) {
                    if (take_over(r, until)) continue;
                    next_try = at + 256;
                }
            }
        }
        std::uint32_t hash_head = 0;
        if (lookahead >= kMinMatch) hash_head = insert(t);

        const std::uint32_t strstart = t - base;
        const std::uint32_t prev_length = match_length;
        const std::uint32_t prev_match = match_start;
        match_length = kMinMatch - 1;
        if (hash_head != 0 && prev_length < config.lazy && strstart - hash_head <= kMaxDist) {
            std::uint32_t chain = config.chain;
            if (prev_length >= config.good) chain >>= 2;
            const std::uint32_t nice =
                std::min<std::uint32_t>(config.nice, static_cast<std::uint32_t>(lookahead));
            std::uint32_t start = match_start - base;
            const std::uint32_t best =
                longest_match(w + base, prev, strstart, hash_head, prev_length, chain, nice, start);
            match_start = start + base;
            match_length = best <= lookahead ? best : static_cast<std::uint32_t>(lookahead);
            if (match_length == kMinMatch && t - match_start > kTooFar)
                match_length = kMinMatch - 1;
        }
        if (prev_length >= kMinMatch && match_length <= prev_length) {
            symbols.push_back(match(prev_length, t - 1 - prev_match));
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
    job.tell_heads();
}

}  // namespace

struct ParallelGzip::Impl {
    Impl(int level_, ByteSink s, DeflateOptions o)
        : level(level_), config(kConfig[level_]), sink(std::move(s)), options(o), coder(sink) {
        if (options.threads == 0)
            options.threads = std::max(1u, std::thread::hardware_concurrency());
        if (options.threads > 1) parsers = std::make_unique<TaskQueue>(options.threads);
        if (options.stretch % kWSize != 0 || options.stretch < kWindowSize ||
            options.overlap == 0 || options.overlap > options.stretch)
            throw Error("deflate: the stretch must be a multiple of 32 KiB of at least 64 KiB");
        const std::uint8_t header[10] = {
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(level_ == 9 ? 2 : 0), 255};
        for (auto b : header) coder.put_byte(b);
        if (options.reuse && options.remember) recorded = std::make_shared<Recorded>(level_);
        // On a small machine, an eighth of its memory at most.
        const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        if (pages > 0 && page > 0)
            options.keep = std::min(
                options.keep, static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 8);
    }

    struct Job {
        std::shared_ptr<Stretch> stretch;
        std::shared_future<void> done;
        std::shared_future<void> heads;  // its head marks are known
    };

    int level;
    Config config;
    ByteSink sink;
    DeflateOptions options;
    BlockCoder coder;
    std::vector<std::uint8_t> input;  // input[0] is byte input_off
    std::uint64_t input_off = 0, total = 0, next = 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    std::deque<Job> jobs;
    std::size_t cut = 0;        // the front job's symbols before this are coded
    std::uint64_t cut_pos = 0;  // where the front job's symbols[cut] begins
    std::size_t reparsed = 0;
    std::uint64_t reused = 0;
    bool finished = false;
    // This input's parse, as it is coded, for the inputs after it.
    std::shared_ptr<Recorded> recorded;
    // Stretches done with, for their buffers.
    std::vector<std::shared_ptr<Stretch>> spare;
    // The stretches are parsed in their order; last, so that its threads end first.
    std::unique_ptr<TaskQueue> parsers;

    std::shared_ptr<Stretch> make(std::uint64_t begin, std::uint64_t end, bool last) {
        // A spare stretch's buffers, so that each does not fault in new pages.
        std::shared_ptr<Stretch> s;
        if (spare.empty()) {
            s = std::make_shared<Stretch>();
        } else {
            s = std::move(spare.back());
            spare.pop_back();
            s->symbols.clear();
            s->head.clear();
            s->tail.clear();
            s->pieces.clear();
            s->regions.clear();
            s->reused = 0;
            s->from = {};
            s->heads_known = std::promise<void>();
            s->heads_told = false;
            s->stop = {};
        }
        // Its buffers come from this thread, not the parsing ones, and stay with it.
        s->symbols.reserve((end - begin) / 3);
        s->begin = begin;
        s->end = end;
        s->last = last;
        s->size = total;
        s->overlap = options.overlap;
        s->off = begin > kBefore ? begin - kBefore : 0;
        const std::uint64_t upto = last ? total : end + options.overlap + 1024;
        s->bytes.resize(upto - s->off + kPadding);
        if (upto > s->off)  // an empty input has no data() to copy from
            std::memcpy(s->bytes.data(), input.data() + (s->off - input_off), upto - s->off);
        std::memset(s->bytes.data() + (upto - s->off), 0, kPadding);
        // A fresh start: nothing pending; zlib's window starts 32 KiB back.
        s->from.pos = begin;
        s->from.base = begin >= kWSize ? begin - kWSize : 0;
        s->fresh = begin > 0;
        return s;
    }

    void submit(std::uint64_t end, bool last) {
        auto s = make(next, end, last);
        next = end;
        Job job{s, {}, s->heads_known.get_future().share()};
        auto work = [s, c = config, l = level, reuse = options.reuse] {
            try {
                if (reuse) look_up(*s, l);
                parse(*s, c);
            } catch (...) {
                if (!s->heads_told) {
                    s->heads_told = true;
                    s->heads_known.set_exception(std::current_exception());
                }
                throw;
            }
        };
        if (options.threads == 1) {
            work();
            std::promise<void> p;
            p.set_value();
            job.done = p.get_future().share();
        } else {
            job.done = parsers->run(work);
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

    // Codes x's symbols from `cut` to `to`, and keeps them.
    void code(Stretch& x, std::size_t to) {
        coder.add(x.symbols.data() + cut, to - cut, x.bytes.data(), x.off);
        reused += x.reused;
        if (!recorded) return;
        recorded->add_run(cut_pos, x.symbols.data() + cut, to - cut);
        recorded->add_pieces(x.pieces);
    }

    // Codes the front job up to where the next one takes over.
    void code_front() {
        Job& a = jobs[0];
        Job& b = jobs[1];
        a.done.get();
        b.heads.get();  // the rest of b's parse may go on meanwhile
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
            code(x, x.tail[i].symbol);
            cut = y.head[j].symbol;
            // A pending literal is the byte before the mark.
            cut_pos = y.head[j].pos - (y.head[j].available ? 1 : 0);
        } else {
            // The parses never met: parse the next stretch again from where this
            // one stopped, in its exact state.
            ++reparsed;
            b.done.get();
            code(x, x.symbols.size());
            y.symbols.clear();
            y.head.clear();
            y.tail.clear();
            y.reused = 0;
            y.fresh = false;
            y.from = x.stop;
            parse(y, config);
            cut = 0;
            cut_pos = x.stop.pos - (x.stop.available ? 1 : 0);
        }
        spare.push_back(std::move(jobs.front().stretch));
        jobs.pop_front();
    }

    void write(const std::uint8_t* data, std::size_t size) {
        crc = crc32_z(crc, data, size);
        input.insert(input.end(), data, data + size);
        total += size;
        while (total >= next + options.stretch + options.overlap + kAfter) {
            submit(next + options.stretch, false);
            // As many waiting as parsing, so that no core waits on the coding.
            while (jobs.size() > 2 * options.threads) code_front();
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
        // The rest in a stretch a thread, so that no core waits on one.
        if (options.threads > 1) {
            const std::uint64_t part = (total - next) / options.threads / kWSize * kWSize;
            for (std::size_t i = 1; i < options.threads && part >= kWindowSize &&
                                    next + part + options.overlap + kAfter <= total;
                 ++i)
                submit(next + part, false);
        }
        submit(total, true);
        while (jobs.size() >= 2) code_front();
        Job& a = jobs[0];
        a.done.get();
        Stretch& x = *a.stretch;
        code(x, x.symbols.size());
        coder.finish(x.bytes.data(), x.off);
        jobs.clear();
        if (recorded) {
            recorded->set_size(total);
            remember(std::move(recorded), options.keep);
        }
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
        spare.clear();
        // The stretches' buffers came from several threads' heaps: give their
        // pages back rather than keep them for a next layer that may not come.
        malloc_trim(0);
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

std::uint64_t ParallelGzip::reused() const { return impl_->reused; }

}  // namespace dmc::image

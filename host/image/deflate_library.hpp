// The parses of the layers compressed before in this process, so that a layer
// holding the same bytes as an earlier one (adminer's layer is php's and 3 MB
// more; every layer of an arch has the same libc) takes the earlier parse there
// instead of searching again.
//
// Identical stretches are found by content: the input is cut where a rolling hash
// of its last 64 bytes says so (so the cuts depend on the bytes alone, not on
// where they are), and each piece is named by its SHA-256. Pieces of a new input
// found, in the same order, in an earlier one make a region the two share.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace dmc::image::deflate {

// A piece of the input: [pos, pos + length), named by its SHA-256.
struct Piece {
    std::uint64_t pos = 0;
    std::uint32_t length = 0;
    std::array<std::uint8_t, 32> digest{};
};

// The pieces that begin in [begin, end) of the input w[pos - off], whose bytes
// w holds up to `available` (absolute). A piece that does not end there is left
// out.
std::vector<Piece> cut_pieces(const std::uint8_t* w, std::uint64_t off, std::uint64_t available,
                              std::uint64_t begin, std::uint64_t end);

// An input's whole parse: its pieces and its matches, in runs that follow each
// other. The literals between matches are only counted: whoever takes the parse
// over has the same bytes.
class Recorded {
  public:
    // `literals` bytes, then a match (none, distance 0, at a run's end).
    struct Step {
        std::uint32_t literals = 0, length = 0, distance = 0;
    };
    // A place in the parse: run, byte of its steps, input position.
    struct Cursor {
        std::size_t run = 0, at = 0;
        std::uint64_t pos = 0;
    };

    explicit Recorded(int level) : level_(level) {}

    // The next symbols (deflate_symbols.hpp), beginning at `pos`.
    void add_run(std::uint64_t pos, const std::uint32_t* symbols, std::size_t count);
    void add_pieces(const std::vector<Piece>& pieces);
    void set_size(std::uint64_t size) { size_ = size; }

    int level() const { return level_; }
    std::uint64_t size() const { return size_; }
    const std::vector<Piece>& pieces() const { return pieces_; }
    std::size_t bytes() const;

    // The step that begins at `pos` right after a match (the parse then has
    // nothing pending), if there is one.
    std::optional<Cursor> after_match(std::uint64_t pos) const;
    // Reads the step at the cursor and moves past it, into the next run when that
    // follows on; false at the end.
    bool next(Cursor& cursor, Step& step) const;

  private:
    struct Run {
        std::uint64_t pos = 0;
        std::vector<std::uint8_t> steps;  // literals (LEB128), length - 3, distance (2 bytes)
        std::vector<std::pair<std::size_t, std::uint64_t>> marks;  // (byte, position) now and then
    };
    static constexpr std::size_t kMarkEvery = 256;

    int level_;
    std::uint64_t size_ = 0;
    std::vector<Piece> pieces_;
    std::vector<Run> runs_;
};

// Bytes [begin, end) of a new input equal to bytes [from_pos, ...) of `from`.
struct Region {
    std::uint64_t begin = 0, end = 0;
    std::shared_ptr<const Recorded> from;
    std::uint64_t from_pos = 0;
};

// The regions of the input, given its pieces, shared with inputs parsed before at
// the same level; in order.
std::vector<Region> shared_regions(const std::vector<Piece>& pieces, int level);

// Keeps a parse for the inputs after it; the oldest go beyond `budget` bytes.
void remember(std::shared_ptr<const Recorded> parse, std::size_t budget);
// Forgets every parse kept.
void forget_all();

}  // namespace dmc::image::deflate

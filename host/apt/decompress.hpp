// The archive's compressed indexes (Packages, Sources) decoded as their bytes come: xz on every
// core, gzip with ISA-L, the rarer forms (bz2, zst) through libarchive once whole. More output than
// a limit is refused as a decompression bomb.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace dmc::apt {

using TextSink = std::function<void(std::string_view)>;

// Decodes a compressed (xz, gz, bz2, zst) or plain file handed to it in pieces, in
// order, handing `sink` its text in pieces as they come. Errors name `what`: a
// corrupt or cut file, or more than max_bytes of text (what the sink was given by
// then is all it gets); what the sink throws comes out of add() or finish().
class Decoder {
  public:
    Decoder(std::string what, std::uint64_t max_bytes, TextSink sink);
    ~Decoder();
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    void add(std::string_view bytes);
    // The end of the file: the rest of the text, or an error if it ends early.
    void finish();

    struct Form;  // the decoder of the form the first bytes show

  private:
    std::string what_;
    std::uint64_t max_bytes_;
    TextSink sink_;
    std::string start_;  // the first bytes, until the form is known
    std::unique_ptr<Form> form_;
};

// A whole file at once.
void decompress_to(const std::string& data, const std::string& what, std::uint64_t max_bytes,
                   const TextSink& sink);
// The same, the text whole, in memory.
std::string decompress(const std::string& data, const std::string& what, std::uint64_t max_bytes);

}  // namespace dmc::apt

#include "image/compression.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "image/deflate.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc::image {

namespace {

constexpr std::size_t chunk_size = 256 * 1024;

class PassThrough final : public Compressor {
  public:
    explicit PassThrough(ByteSink sink) : sink_(std::move(sink)) {}
    void write(const void* data, std::size_t size) override {
        if (size > 0) sink_(data, size);
    }
    void finish() override {}

  private:
    ByteSink sink_;
};

class GzipCompressor final : public Compressor {
  public:
    GzipCompressor(int level, ByteSink sink) : sink_(std::move(sink)), out_(chunk_size) {
        if (level < 1 || level > 9)
            throw Error("gzip compression level must be 1 to 9, not " + std::to_string(level));
        // windowBits 15 + 16 asks zlib for a gzip wrapper instead of a zlib one.
        if (deflateInit2(&stream_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            throw Error("cannot initialise gzip compression (zlib)");
        // zlib keeps a pointer to the header until it writes it: it must live
        // as long as the stream. Every field zero except the OS byte.
        header_.os = 255;
        if (deflateSetHeader(&stream_, &header_) != Z_OK) {
            deflateEnd(&stream_);
            throw Error("cannot set the gzip header (zlib)");
        }
    }
    ~GzipCompressor() override { deflateEnd(&stream_); }
    GzipCompressor(const GzipCompressor&) = delete;
    GzipCompressor& operator=(const GzipCompressor&) = delete;

    void write(const void* data, std::size_t size) override {
        // avail_in is 32-bit: feed big buffers in slices.
        const auto* bytes = static_cast<const unsigned char*>(data);
        while (size > 0) {
            const std::size_t slice = std::min<std::size_t>(size, 1u << 30);
            stream_.next_in = const_cast<unsigned char*>(bytes);  // zlib does not write to it
            stream_.avail_in = static_cast<uInt>(slice);
            run(Z_NO_FLUSH);
            bytes += slice;
            size -= slice;
        }
    }

    void finish() override {
        stream_.next_in = nullptr;
        stream_.avail_in = 0;
        run(Z_FINISH);
    }

  private:
    void run(int flush) {
        int status = Z_OK;
        do {
            stream_.next_out = out_.data();
            stream_.avail_out = static_cast<uInt>(out_.size());
            status = deflate(&stream_, flush);
            if (status == Z_STREAM_ERROR) throw Error("gzip compression failed (zlib)");
            const std::size_t produced = out_.size() - stream_.avail_out;
            if (produced > 0) sink_(out_.data(), produced);
        } while (stream_.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END));
    }

    ByteSink sink_;
    std::vector<unsigned char> out_;
    z_stream stream_{};
    gz_header header_{};
};

// Levels 4 to 9: zlib's bytes, with the parse on every core (image/deflate).
class ParallelGzipCompressor final : public Compressor {
  public:
    ParallelGzipCompressor(int level, ByteSink sink, bool remember)
        : gzip_(level, std::move(sink), options(remember)) {}
    void write(const void* data, std::size_t size) override { gzip_.write(data, size); }
    void finish() override { gzip_.finish(); }

  private:
    static DeflateOptions options(bool remember) {
        DeflateOptions o;
        o.remember = remember;
        return o;
    }
    ParallelGzip gzip_;
};

class ZstdCompressor final : public Compressor {
  public:
    ZstdCompressor(int level, ByteSink sink)
        : sink_(std::move(sink)), context_(ZSTD_createCCtx()), out_(ZSTD_CStreamOutSize()) {
        if (context_ == nullptr) throw Error("cannot initialise zstd compression");
        if (level < 1 || level > ZSTD_maxCLevel()) {
            ZSTD_freeCCtx(context_);
            throw Error("zstd compression level must be 1 to " + std::to_string(ZSTD_maxCLevel()) +
                        ", not " + std::to_string(level));
        }
        ZSTD_CCtx_setParameter(context_, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(context_, ZSTD_c_checksumFlag, 1);
        ZSTD_CCtx_setParameter(context_, ZSTD_c_nbWorkers, 0);
    }
    ~ZstdCompressor() override { ZSTD_freeCCtx(context_); }
    ZstdCompressor(const ZstdCompressor&) = delete;
    ZstdCompressor& operator=(const ZstdCompressor&) = delete;

    void write(const void* data, std::size_t size) override {
        ZSTD_inBuffer in{data, size, 0};
        while (in.pos < in.size) run(in, ZSTD_e_continue);
    }

    void finish() override {
        ZSTD_inBuffer in{nullptr, 0, 0};
        while (run(in, ZSTD_e_end) != 0) {
        }
    }

  private:
    std::size_t run(ZSTD_inBuffer& in, ZSTD_EndDirective directive) {
        ZSTD_outBuffer out{out_.data(), out_.size(), 0};
        const std::size_t remaining = ZSTD_compressStream2(context_, &out, &in, directive);
        if (ZSTD_isError(remaining))
            throw Error(std::string("zstd compression failed: ") + ZSTD_getErrorName(remaining));
        if (out.pos > 0) sink_(out_.data(), out.pos);
        return remaining;
    }

    ByteSink sink_;
    ZSTD_CCtx* context_;
    std::vector<char> out_;
};

// Reads a file in chunks and hands each chunk to `consume`.
void read_chunks(const fs::path& path,
                 const std::function<void(const char*, std::size_t)>& consume) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read " + path.string() + ": " + std::strerror(errno));
    std::vector<char> buffer(chunk_size);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto got = static_cast<std::size_t>(in.gcount());
        if (got > 0) consume(buffer.data(), got);
    }
    if (in.bad()) throw Error("cannot read " + path.string());
}

void gunzip_file(const fs::path& path, const ByteSink& sink) {
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 16) != Z_OK) throw Error("cannot initialise gzip (zlib)");
    std::vector<unsigned char> out(chunk_size);
    bool ended = false;
    try {
        read_chunks(path, [&](const char* data, std::size_t size) {
            stream.next_in = reinterpret_cast<unsigned char*>(const_cast<char*>(data));
            stream.avail_in = static_cast<uInt>(size);
            for (;;) {
                // Several members are legal gzip; we never write them, but
                // accept them rather than silently dropping data.
                if (ended && stream.avail_in > 0) {
                    if (inflateReset(&stream) != Z_OK) throw Error("gzip reset failed (zlib)");
                    ended = false;
                }
                stream.next_out = out.data();
                stream.avail_out = static_cast<uInt>(out.size());
                const int status = inflate(&stream, Z_NO_FLUSH);
                if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
                    throw Error("corrupt gzip data in " + path.string());
                const std::size_t produced = out.size() - stream.avail_out;
                if (produced > 0) sink(out.data(), produced);
                if (status == Z_STREAM_END) ended = true;
                if (status == Z_BUF_ERROR) break;  // no progress: needs more input
                // A full output buffer may hide more output: go round again.
                if (stream.avail_in == 0 && stream.avail_out > 0) break;
            }
        });
        if (!ended) throw Error("truncated gzip data in " + path.string());
    } catch (...) {
        inflateEnd(&stream);
        throw;
    }
    inflateEnd(&stream);
}

void unzstd_file(const fs::path& path, const ByteSink& sink) {
    ZSTD_DCtx* context = ZSTD_createDCtx();
    if (context == nullptr) throw Error("cannot initialise zstd decompression");
    std::vector<char> out(ZSTD_DStreamOutSize());
    std::size_t frame_remaining = 1;  // 0 once a frame is complete and flushed
    try {
        read_chunks(path, [&](const char* data, std::size_t size) {
            ZSTD_inBuffer in{data, size, 0};
            for (;;) {
                ZSTD_outBuffer output{out.data(), out.size(), 0};
                frame_remaining = ZSTD_decompressStream(context, &output, &in);
                if (ZSTD_isError(frame_remaining))
                    throw Error("corrupt zstd data in " + path.string() + ": " +
                                ZSTD_getErrorName(frame_remaining));
                if (output.pos > 0) sink(out.data(), output.pos);
                // A full output buffer may hide more output: go round again.
                if (in.pos == in.size && output.pos < output.size) break;
            }
        });
        if (frame_remaining != 0) throw Error("truncated zstd data in " + path.string());
    } catch (...) {
        ZSTD_freeDCtx(context);
        throw;
    }
    ZSTD_freeDCtx(context);
}

}  // namespace

std::string_view compression_name(Compression compression) {
    switch (compression) {
        case Compression::gzip:
            return "gzip";
        case Compression::zstd:
            return "zstd";
        case Compression::none:
            return "none";
    }
    return "none";
}

std::unique_ptr<Compressor> Compressor::create(Compression compression, int level, ByteSink sink,
                                               bool remember) {
    switch (compression) {
        case Compression::gzip:
            if (level == 0) level = default_gzip_level;
            if (level >= 4 && level <= 9)
                return std::make_unique<ParallelGzipCompressor>(level, std::move(sink), remember);
            return std::make_unique<GzipCompressor>(level, std::move(sink));
        case Compression::zstd:
            return std::make_unique<ZstdCompressor>(level == 0 ? default_zstd_level : level,
                                                    std::move(sink));
        case Compression::none:
            return std::make_unique<PassThrough>(std::move(sink));
    }
    throw Error("unknown compression");
}

void decompress_file(const fs::path& path, Compression compression, const ByteSink& sink) {
    switch (compression) {
        case Compression::gzip:
            return gunzip_file(path, sink);
        case Compression::zstd:
            return unzstd_file(path, sink);
        case Compression::none:
            return read_chunks(path, [&](const char* data, std::size_t size) { sink(data, size); });
    }
}

}  // namespace dmc::image

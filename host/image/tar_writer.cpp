#include "image/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>

#include <memory>

#include "util/error.hpp"

namespace dmc::image {

namespace {

// libarchive converts names from the locale's charset to UTF-8 for pax
// headers, so the same name gives other bytes under "C" (hdrcharset=BINARY)
// than under a UTF-8 locale (a UTF-8 path). C.UTF-8 is pinned for the calling
// thread while libarchive runs; glibc has it built in since 2.35.
class Utf8LocaleScope {
  public:
    Utf8LocaleScope() : previous_(uselocale(utf8_locale())) {}
    ~Utf8LocaleScope() { uselocale(previous_); }
    Utf8LocaleScope(const Utf8LocaleScope&) = delete;
    Utf8LocaleScope& operator=(const Utf8LocaleScope&) = delete;

  private:
    static locale_t utf8_locale() {
        static const locale_t locale = [] {
            locale_t created = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
            if (created == locale_t{})
                throw Error("the C.UTF-8 locale is missing: tar names would depend on the locale");
            return created;
        }();
        return locale;
    }
    locale_t previous_;
};

struct EntryDeleter {
    void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};

}  // namespace

struct TarWriterCallbacks {
    static la_ssize_t on_write(archive*, void* client, const void* data, std::size_t size) {
        auto* self = static_cast<TarWriter*>(client);
        if (self->finished_) return static_cast<la_ssize_t>(size);  // abandoned: drop
        try {
            self->sink_(data, size);
        } catch (...) {
            // Exceptions must not cross libarchive's C frames.
            self->sink_error_ = std::current_exception();
            return -1;
        }
        return static_cast<la_ssize_t>(size);
    }
};

TarWriter::TarWriter(ByteSink sink) : sink_(std::move(sink)), archive_(archive_write_new()) {
    if (archive_ == nullptr) throw Error("cannot create a tar writer (libarchive)");
    std::unique_ptr<Utf8LocaleScope> locale;
    try {
        locale = std::make_unique<Utf8LocaleScope>();
    } catch (...) {
        archive_write_free(archive_);
        throw;
    }
    // Records of 10240 bytes as tar always did, but the last one is not padded
    // out: the archive ends right after the two zero blocks.
    if (archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK ||
        archive_write_add_filter_none(archive_) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(archive_, 10240) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(archive_, 1) != ARCHIVE_OK ||
        archive_write_open(archive_, this, nullptr, &TarWriterCallbacks::on_write, nullptr) !=
            ARCHIVE_OK) {
        const std::string why =
            archive_error_string(archive_) ? archive_error_string(archive_) : "unknown error";
        archive_write_free(archive_);
        throw Error("cannot set up the tar writer: " + why);
    }
}

TarWriter::~TarWriter() {
    // Freeing an open archive writes its end marker: an abandoned stream must
    // not reach the sink any more.
    finished_ = true;
    Utf8LocaleScope locale;
    archive_write_free(archive_);
}

void TarWriter::check(int status, const std::string& what) {
    if (sink_error_) {
        std::exception_ptr error = sink_error_;
        sink_error_ = nullptr;
        finished_ = true;
        std::rethrow_exception(error);
    }
    // ARCHIVE_WARN is a name libarchive could not convert to UTF-8: it then
    // stores the raw bytes with hdrcharset=BINARY, which is what we want.
    if (status < ARCHIVE_WARN) {
        const char* why = archive_error_string(archive_);
        finished_ = true;
        throw Error("cannot write " + what +
                    " to the tar stream: " + (why ? why : "unknown error"));
    }
}

void TarWriter::write_header(const TarHeader& header) {
    if (finished_) throw Error("tar writer used after finish");
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new2(archive_));
    if (!entry) throw Error("out of memory");
    archive_entry_copy_pathname(entry.get(), header.name.c_str());
    switch (header.kind) {
        case TarHeader::Kind::file:
            archive_entry_set_filetype(entry.get(), AE_IFREG);
            archive_entry_set_size(entry.get(), static_cast<la_int64_t>(header.size));
            break;
        case TarHeader::Kind::directory:
            archive_entry_set_filetype(entry.get(), AE_IFDIR);
            break;
        case TarHeader::Kind::symlink:
            archive_entry_set_filetype(entry.get(), AE_IFLNK);
            archive_entry_copy_symlink(entry.get(), header.link_target.c_str());
            break;
        case TarHeader::Kind::hardlink:
            archive_entry_set_filetype(entry.get(), AE_IFREG);
            archive_entry_copy_hardlink(entry.get(), header.link_target.c_str());
            break;
    }
    archive_entry_set_perm(entry.get(), header.mode & 07777);
    archive_entry_set_uid(entry.get(), header.uid);
    archive_entry_set_gid(entry.get(), header.gid);
    archive_entry_set_mtime(entry.get(), header.mtime, 0);
    Utf8LocaleScope locale;
    check(archive_write_header(archive_, entry.get()), header.name);
}

void TarWriter::write_data(const void* data, std::size_t size) {
    if (finished_) throw Error("tar writer used after finish");
    Utf8LocaleScope locale;
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const la_ssize_t written = archive_write_data(archive_, bytes, size);
        check(written < 0 ? static_cast<int>(written) : ARCHIVE_OK, "file data");
        if (written <= 0) throw Error("tar writer refused file data beyond the declared size");
        bytes += written;
        size -= static_cast<std::size_t>(written);
    }
}

void TarWriter::finish() {
    if (finished_) throw Error("tar writer finished twice");
    Utf8LocaleScope locale;
    check(archive_write_close(archive_), "the end of archive");
    finished_ = true;
}

}  // namespace dmc::image

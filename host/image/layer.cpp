#include "image/layer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "image/tar_writer.hpp"
#include "util/error.hpp"
#include "util/hashed_file.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace dmc::image {

namespace {

// The ustar mtime field holds 11 octal digits; beyond it pax headers would be
// needed for every entry, and no SOURCE_DATE_EPOCH is that far off.
constexpr std::int64_t max_mtime = (std::int64_t{1} << 33) - 1;

using Type = LayerEntry::Type;

std::string_view type_name(Type type) {
    switch (type) {
        case Type::file:
            return "file";
        case Type::dir:
            return "directory";
        case Type::symlink:
            return "symlink";
        case Type::hardlink:
            return "hard link";
    }
    return "entry";
}

// "/usr/sbin/nginx" -> "usr/sbin/nginx", refusing anything that is not an
// absolute normalized path that a runtime would unpack as written.
std::string stored_name(std::string_view path) {
    auto refuse = [&](std::string_view why) {
        throw Error("layer path \"" + std::string(path) + "\": " + std::string(why));
    };
    if (path.find('\0') != std::string_view::npos) refuse("contains a NUL byte");
    if (path.empty() || path.front() != '/') refuse("must be absolute");
    if (path == "/") refuse("the root directory cannot be an entry");
    if (path.back() == '/') refuse("must not end with '/'");
    std::string_view rest = path.substr(1);
    for (;;) {
        const std::size_t slash = rest.find('/');
        const std::string_view component = rest.substr(0, slash);
        if (component.empty()) refuse("has an empty component");
        if (component == "." || component == "..") refuse("is not normalized");
        if (component.substr(0, 4) == ".wh.") refuse("'.wh.' names are whiteouts in OCI layers");
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
    return std::string(path.substr(1));
}

// One tar entry to write, keyed by its stored name (without the trailing '/'
// of directories, so that the map order is the bytewise path order).
struct Node {
    Type type = Type::dir;
    const LayerEntry* entry = nullptr;  // null for parent directories added here
    std::uint32_t mode = 0755;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    // Files: the entry that holds the content and metadata (itself unless it
    // leads a hard link group given its content by another path).
    const LayerEntry* content = nullptr;
    // Hard links: stored name of the file written before it.
    std::string link_to;
};

using Tree = std::map<std::string, Node>;

void add_listed_entries(const LayerSpec& spec, Tree& tree) {
    for (const LayerEntry& entry : spec.entries) {
        std::string name = stored_name(entry.path);
        if ((entry.mode & ~07777u) != 0)
            throw Error("layer path \"" + entry.path + "\": mode " + std::to_string(entry.mode) +
                        " has bits beyond the permission bits (07777)");
        if (entry.type == Type::symlink &&
            (entry.link_target.empty() || entry.link_target.find('\0') != std::string::npos))
            throw Error("layer path \"" + entry.path + "\": symlink target is empty or has NUL");
        Node node;
        node.type = entry.type;
        node.entry = &entry;
        node.mode = entry.type == Type::symlink ? 0777 : entry.mode;
        node.uid = entry.uid;
        node.gid = entry.gid;
        if (entry.type == Type::file) node.content = &entry;
        auto [existing, inserted] = tree.emplace(std::move(name), node);
        if (inserted) continue;
        const Node& other = existing->second;
        const bool same_directory = other.type == Type::dir && entry.type == Type::dir &&
                                    other.mode == node.mode && other.uid == node.uid &&
                                    other.gid == node.gid;
        if (!same_directory)
            throw Error("layer path \"" + entry.path + "\" is listed twice (" +
                        std::string(type_name(other.type)) + " and " +
                        std::string(type_name(entry.type)) + ")");
    }
}

void add_parent_directories(Tree& tree) {
    std::vector<std::string> missing;
    for (const auto& [name, node] : tree) {
        for (std::size_t slash = name.find('/'); slash != std::string::npos;
             slash = name.find('/', slash + 1)) {
            const std::string parent = name.substr(0, slash);
            const auto found = tree.find(parent);
            if (found == tree.end()) {
                missing.push_back(parent);
            } else if (found->second.type != Type::dir) {
                throw Error("layer path \"/" + name + "\" is under \"/" + parent + "\", a " +
                            std::string(type_name(found->second.type)) + ", not a directory");
            }
        }
    }
    for (std::string& parent : missing) tree.emplace(std::move(parent), Node{});
}

// Turns every hard link group into a file at the group's first name followed by
// links to it (see layer.hpp).
void resolve_hard_links(Tree& tree) {
    std::map<std::string, std::vector<std::string>> links_by_file;  // file name -> link names
    for (const auto& [name, node] : tree) {
        if (node.type != Type::hardlink) continue;
        std::string target = stored_name(node.entry->link_target);
        for (std::size_t hops = 0;; ++hops) {
            const auto found = tree.find(target);
            if (found == tree.end())
                throw Error("hard link \"/" + name + "\" points to \"/" + target +
                            "\", which is not in the layer");
            if (found->second.type == Type::file) break;
            if (found->second.type != Type::hardlink || hops > tree.size())
                throw Error("hard link \"/" + name + "\" does not lead to a regular file");
            target = stored_name(found->second.entry->link_target);
        }
        links_by_file[target].push_back(name);
    }
    for (auto& [file, links] : links_by_file) {
        // links are in tree order already; the group's first name is either
        // the file or the first link.
        const std::string& leader = std::min(file, links.front());
        Node file_node = tree.at(file);
        if (leader != file) {
            Node& lead = tree.at(leader);
            lead.type = Type::file;
            lead.content = file_node.content;
            lead.mode = file_node.mode;
            lead.uid = file_node.uid;
            lead.gid = file_node.gid;
            Node& former = tree.at(file);
            former.type = Type::hardlink;
            former.content = nullptr;
        }
        if (leader != file) tree.at(file).link_to = leader;
        for (const std::string& member : links) {
            // Readers ignore a link's own metadata; copying the file's keeps
            // the bytes independent of what the spec put there.
            Node& link = tree.at(member);
            link.mode = file_node.mode;
            link.uid = file_node.uid;
            link.gid = file_node.gid;
            if (member != leader) link.link_to = leader;
        }
    }
}

class SourceFile {
  public:
    explicit SourceFile(const fs::path& path) : path_(path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw Error("cannot read " + path.string() + ": " + std::strerror(errno));
        struct stat info {};
        if (::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode)) {
            ::close(fd_);
            throw Error("layer source " + path.string() + " is not a regular file");
        }
        size_ = static_cast<std::uint64_t>(info.st_size);
    }
    ~SourceFile() { ::close(fd_); }
    SourceFile(const SourceFile&) = delete;
    SourceFile& operator=(const SourceFile&) = delete;

    std::uint64_t size() const { return size_; }

    // Streams exactly size() bytes; a file that changes size meanwhile is an
    // error rather than a silently different layer.
    void copy_to(TarWriter& tar) {
        std::vector<char> buffer(256 * 1024);
        std::uint64_t copied = 0;
        for (;;) {
            const ssize_t got = ::read(fd_, buffer.data(), buffer.size());
            if (got < 0) {
                if (errno == EINTR) continue;
                throw Error("cannot read " + path_.string() + ": " + std::strerror(errno));
            }
            if (got == 0) break;
            copied += static_cast<std::uint64_t>(got);
            if (copied > size_) break;
            tar.write_data(buffer.data(), static_cast<std::size_t>(got));
        }
        if (copied != size_) throw Error(path_.string() + " changed while it was being archived");
    }

  private:
    fs::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

void write_entries(const Tree& tree, std::int64_t mtime, TarWriter& tar) {
    for (const auto& [name, node] : tree) {
        TarHeader header;
        header.name = name;
        header.mode = node.mode;
        header.uid = node.uid;
        header.gid = node.gid;
        header.mtime = mtime;
        switch (node.type) {
            case Type::dir:
                header.kind = TarHeader::Kind::directory;
                header.name += '/';
                tar.write_header(header);
                break;
            case Type::symlink:
                header.kind = TarHeader::Kind::symlink;
                header.link_target = node.entry->link_target;
                tar.write_header(header);
                break;
            case Type::hardlink:
                header.kind = TarHeader::Kind::hardlink;
                header.link_target = node.link_to;
                tar.write_header(header);
                break;
            case Type::file: {
                header.kind = TarHeader::Kind::file;
                const LayerEntry& content = *node.content;
                if (content.source.empty()) {
                    header.size = content.content.size();
                    tar.write_header(header);
                    tar.write_data(content.content.data(), content.content.size());
                } else {
                    SourceFile source(content.source);
                    header.size = source.size();
                    tar.write_header(header);
                    source.copy_to(tar);
                }
                break;
            }
        }
    }
}

}  // namespace

std::string_view layer_media_type(Compression compression) {
    switch (compression) {
        case Compression::gzip:
            return "application/vnd.oci.image.layer.v1.tar+gzip";
        case Compression::zstd:
            return "application/vnd.oci.image.layer.v1.tar+zstd";
        case Compression::none:
            return "application/vnd.oci.image.layer.v1.tar";
    }
    return "application/vnd.oci.image.layer.v1.tar";
}

std::string_view LayerInfo::media_type() const { return layer_media_type(compression); }

LayerInfo write_layer(const LayerSpec& spec, const fs::path& output) {
    if (spec.mtime < 0 || spec.mtime > max_mtime)
        throw Error("layer mtime " + std::to_string(spec.mtime) + " is out of range");
    Tree tree;
    add_listed_entries(spec, tree);
    add_parent_directories(tree);
    resolve_hard_links(tree);

    HashedFile blob(output);
    auto compressor = Compressor::create(
        spec.compression, spec.compression_level,
        [&](const void* data, std::size_t size) { blob.write(data, size); }, spec.later_layers);
    Sha256 tar_hash;
    std::uint64_t tar_size = 0;
    TarWriter tar([&](const void* data, std::size_t size) {
        tar_hash.update(data, size);
        tar_size += size;
        compressor->write(data, size);
    });
    write_entries(tree, spec.mtime, tar);
    tar.finish();
    compressor->finish();

    LayerInfo info;
    info.path = output;
    info.compression = spec.compression;
    info.diff_id = "sha256:" + tar_hash.hex();
    info.tar_size = tar_size;
    info.size = blob.size();
    info.digest = "sha256:" + blob.commit();
    return info;
}

}  // namespace dmc::image

#include "util/hashed_file.hpp"

#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc {

HashedFile::HashedFile(fs::path destination) : file_(std::move(destination)) {}

void HashedFile::write(const void* data, std::size_t size) {
    if (!digest_.empty())
        throw Error(file_.destination().string() + " written to after its digest was taken");
    hash_.update(data, size);
    size_ += size;
    file_.write(data, size);
}

const std::string& HashedFile::sha256() {
    if (digest_.empty()) digest_ = hash_.hex();
    return digest_;
}

std::string HashedFile::commit() {
    file_.commit();
    return sha256();
}

}  // namespace dmc

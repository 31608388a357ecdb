// The optional parts of an image, asked for by a template (want(...)) or by the user
// (-T, --small), interpreted here and nowhere else: what each adds to the packages
// to fetch, to the files collected, and to the image's base (contents/assemble.cpp).
#pragma once

#include <string>
#include <vector>

namespace dmc::contents {

struct Features {
    std::vector<std::string> wanted;  // the template's want(...) calls, in order, each once
    bool tools = false;               // -T: busybox's shell and applets
    bool small = false;               // want("small") or --small: whole packages, dpkg database

    // Throws Error naming a feature dmc does not know.
    static Features of(const std::vector<std::string>& wanted, bool tools, bool small);
    bool wants(const std::string& feature) const;

    // Packages to resolve besides the template's own: the features' (base-passwd for
    // system-users, whose fixed ids Configure::system_user() reads), and base-files,
    // which names the distribution (/etc/os-release) for the image and for scanners.
    std::vector<std::string> packages() const;
    // Paths to collect besides the template's own.
    std::vector<std::string> collected_paths() const;
};

// The features a template may want.
const std::vector<std::string>& known_features();

// The merged-/usr links that base-files (or debootstrap) would make: packages ship
// under /usr, while ELF interpreters and scripts name /bin, /lib64, ... Every rootfs
// has them all; an image has those marked `always`, and /lib64 only where its ELF
// closure goes through it (amd64's interpreter lives there).
struct MergedUsrLink {
    const char* dir;  // "lib64": /lib64 -> usr/lib64
    bool always;
};
const std::vector<MergedUsrLink>& merged_usr_links();

}  // namespace dmc::contents

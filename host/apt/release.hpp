// A suite's Release file: fetched as InRelease (or Release + Release.gpg),
// verified with gpgv against the mirror's keyring, then parsed.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dmc::apt {

struct ReleaseEntry {
    std::uint64_t size = 0;
    std::string sha256;
};

struct ReleaseFile {
    std::string origin, suite, codename, date;
    std::optional<std::time_t> valid_until;
    std::vector<std::string> architectures, components;
    bool acquire_by_hash = false;
    std::map<std::string, ReleaseEntry> files;  // path relative to dists/<suite>/ -> size, sha256
};

// Parses the (already verified) text of a Release file.
ReleaseFile parse_release(const std::string& text);

// Dates as Release files write them ("Sat, 08 Nov 2025 09:47:00 UTC"); nullopt if unreadable.
std::optional<std::time_t> parse_release_date(const std::string& text);

// Checks an InRelease (clearsigned) with gpgv and returns the signed text only.
// Throws Error naming `what` when the signature is missing, bad or not from the keyring.
std::string verify_inrelease(const std::string& inrelease, const std::string& keyring,
                             const std::string& what);
// Checks a detached signature (Release.gpg) of `release`.
void verify_detached(const std::string& release, const std::string& signature,
                     const std::string& keyring, const std::string& what);
// The text of a clear-signed InRelease, unverified (for --allow-unsigned, and checked
// before gpgv): exactly one signed part, only Hash armour headers, nothing but blank
// lines after the signature. Throws Error naming `what` and the line otherwise. A
// text with no armour at all is returned as it is (gpgv refuses it as unsigned).
std::string signed_message(const std::string& inrelease, const std::string& what);

}  // namespace dmc::apt

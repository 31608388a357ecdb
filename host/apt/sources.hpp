// The host's own apt sources, as the default mirrors (as mmdebstrap does).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace dmc::apt {

// Reads sources.list and sources.list.d/*.list and *.sources below `etc_apt`.
// Suites become templates over the dist: "bookworm-updates" -> "{dist}-updates";
// backports and disabled entries are skipped; deb-src lines are ignored.
std::vector<config::Mirror> host_sources(const std::filesystem::path& etc_apt = "/etc/apt");

// The suites of a mirror for a dist ("{dist}" replaced; default: the dist itself).
std::vector<std::string> suites_for(const config::Mirror& mirror, const std::string& dist);

}  // namespace dmc::apt

// A package's license as an SPDX expression, from its machine-readable
// debian/copyright (DEP-5, /usr/share/doc/<package>/copyright): the License of
// the "Files: *" paragraph, with Debian's short names mapped to SPDX identifiers.
#pragma once

#include <string>
#include <string_view>

namespace dmc::contents {

// "" when the file is not DEP-5, has no "Files: *" paragraph, or names a license
// that has no SPDX identifier.
std::string spdx_license(std::string_view copyright);

}  // namespace dmc::contents

#include <gtest/gtest.h>

#include "contents/licenses.hpp"

using dmc::contents::spdx_license;

const char* kHeader =
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    "Upstream-Name: nginx\n\n";

TEST(ContentsLicenses, TheLicenseOfFilesStarInSpdxTerms) {
    EXPECT_EQ(spdx_license(std::string(kHeader) +
                           "Files: *\nCopyright: 2002-2021 Igor Sysoev\nLicense: BSD-2-clause\n\n"
                           "Files: debian/*\nCopyright: 2007 Someone\nLicense: GPL-2+\n\n"
                           "License: BSD-2-clause\n Redistribution and use ...\n"),
              "BSD-2-Clause");
    EXPECT_EQ(spdx_license(std::string(kHeader) + "Files: *\nLicense: GPL-2+ or Expat\n"),
              "GPL-2.0-or-later OR MIT");
    EXPECT_EQ(spdx_license(std::string(kHeader) + "Files: *\nLicense: LGPL-2.1+ and BSD-3-clause\n"
                                                  " text of the license\n"),
              "LGPL-2.1-or-later AND BSD-3-Clause");
}

TEST(ContentsLicenses, NothingWhenItCannotBeSaidInSpdxTerms) {
    EXPECT_EQ(
        spdx_license("This package was debianized by ...\nGPL-2, see /usr/share/common-licenses"),
        "");
    EXPECT_EQ(spdx_license(std::string(kHeader) + "Files: src/*\nLicense: MIT\n"), "");
    EXPECT_EQ(spdx_license(std::string(kHeader) + "Files: *\nLicense: public-domain\n"), "");
    EXPECT_EQ(spdx_license(std::string(kHeader) + "Files: *\nLicense: Some-Custom\n"), "");
    EXPECT_EQ(spdx_license(""), "");
}

// A shared library without the entry symbol. Its initialiser leaves a marker file,
// so a test can prove that the host never loaded it.
#include <cstdio>
#include <cstdlib>

namespace {
struct Marker {
    Marker() {
        if (const char* path = std::getenv("DMC_TEST_MARKER")) {
            if (FILE* f = std::fopen(path, "w")) std::fclose(f);
        }
    }
} marker;
}  // namespace

extern "C" __attribute__((visibility("default"))) int some_other_function() { return 42; }

#include "support/vector_file.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace pvwire::test {

std::filesystem::path vectors_dir() {
    if (const char* env = std::getenv("PVWIRE_VECTORS_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
#ifdef PVWIRE_VECTORS_DIR
    return PVWIRE_VECTORS_DIR;
#else
    throw std::runtime_error("PVWIRE_VECTORS_DIR is neither set in the environment nor defined");
#endif
}

std::vector<std::filesystem::path> vector_files(const std::string& subdir) {
    const std::filesystem::path dir = vectors_dir() / subdir;
    if (!std::filesystem::is_directory(dir)) {
        throw std::runtime_error(dir.string() + ": not a directory");
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".txt") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace pvwire::test

// Static files of the HTTP port: which file a request target names, and its content type.
// Pure functions over the file system, no HTTP: the listener (websocket.cpp) serves them.
#include <pvwire/net/http_routes.hpp>

#include <array>
#include <filesystem>
#include <utility>

namespace pvwire::net {

namespace fs = std::filesystem;

std::string_view content_type_for(std::string_view file_name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 13> types{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
        {".wasm", "application/wasm"},
    }};
    for (const auto& [ext, type] : types)
        if (file_name.size() > ext.size() && file_name.ends_with(ext)) return type;
    return "application/octet-stream";
}

namespace {
// The path part of a request target, percent-decoded; nullopt for a bad escape or a NUL.
std::optional<std::string> decoded_path(std::string_view target) {
    target = target.substr(0, target.find_first_of("?#"));
    std::string out;
    for (std::size_t i = 0; i < target.size(); ++i) {
        char c = target[i];
        if (c == '%') {
            if (i + 2 >= target.size()) return std::nullopt;
            const auto hex = [](char h) -> int {
                if (h >= '0' && h <= '9') return h - '0';
                if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                return -1;
            };
            const int hi = hex(target[i + 1]), lo = hex(target[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = char(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || c == '\\') return std::nullopt;
        out += c;
    }
    return out;
}
}  // namespace

std::optional<std::string> resolve_web_file(const std::string& root, std::string_view target) {
    if (root.empty() || !target.starts_with('/')) return std::nullopt;
    auto path = decoded_path(target);
    if (!path) return std::nullopt;
    // no segment may be "..": refused before touching the file system
    for (std::size_t start = 0; start <= path->size();) {
        const std::size_t end = std::min(path->find('/', start), path->size());
        if (std::string_view(*path).substr(start, end - start) == "..") return std::nullopt;
        start = end + 1;
    }
    std::error_code ec;
    const fs::path base = fs::canonical(root, ec);
    if (ec) return std::nullopt;
    fs::path file = base / fs::path(*path).relative_path();
    if (fs::is_directory(file, ec)) file /= "index.html";
    const fs::path real = fs::canonical(file, ec);  // links resolved: must stay under the root
    if (ec || !fs::is_regular_file(real, ec)) return std::nullopt;
    const auto rel = real.lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..") return std::nullopt;
    return real.string();
}

}  // namespace pvwire::net

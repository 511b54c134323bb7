// The HTTP port's static files: content types, index.html for directories, and no way out of
// the web root ("..", encoded or not, and links leading outside).
#include <catch2/catch.hpp>

#include <pvwire/net/http_routes.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace pvwire;
namespace fs = std::filesystem;

TEST_CASE("web files: content types by extension") {
    CHECK(net::content_type_for("index.html").starts_with("text/html"));
    CHECK(net::content_type_for("a/app.js").starts_with("text/javascript"));
    CHECK(net::content_type_for("x.css").starts_with("text/css"));
    CHECK(net::content_type_for("x.svg") == "image/svg+xml");
    CHECK(net::content_type_for("x.png") == "image/png");
    CHECK(net::content_type_for("x.json") == "application/json");
    CHECK(net::content_type_for("favicon.ico") == "image/x-icon");
    CHECK(net::content_type_for("f.woff2") == "font/woff2");
    CHECK(net::content_type_for("blob") == "application/octet-stream");
}

TEST_CASE("web files: targets resolve under the root only") {
    const fs::path root = fs::temp_directory_path() / ("pvwire-web-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "assets");
    std::ofstream(root / "index.html") << "<html>";
    std::ofstream(root / "assets" / "app.js") << "x";
    std::ofstream(root.parent_path() / "pvwire-secret.txt") << "secret";
    fs::create_symlink(root.parent_path() / "pvwire-secret.txt", root / "leak.txt");
    const std::string r = root.string();
    const auto real = [](const fs::path& p) { return fs::canonical(p).string(); };

    CHECK(net::resolve_web_file(r, "/") == real(root / "index.html"));
    CHECK(net::resolve_web_file(r, "/?x=1") == real(root / "index.html"));
    CHECK(net::resolve_web_file(r, "/assets/app.js") == real(root / "assets" / "app.js"));
    CHECK(net::resolve_web_file(r, "/assets/app%2Ejs") == real(root / "assets" / "app.js"));
    CHECK_FALSE(net::resolve_web_file(r, "/missing.js"));
    CHECK_FALSE(net::resolve_web_file(r, "/../pvwire-secret.txt"));
    CHECK_FALSE(net::resolve_web_file(r, "/assets/../../pvwire-secret.txt"));
    CHECK_FALSE(net::resolve_web_file(r, "/%2e%2e/pvwire-secret.txt"));
    CHECK_FALSE(net::resolve_web_file(r, "/leak.txt"));  // a link out of the root
    CHECK_FALSE(net::resolve_web_file(r, "/index.html%00"));
    CHECK_FALSE(net::resolve_web_file(r, "/bad%zz"));
    CHECK_FALSE(net::resolve_web_file("", "/"));
    fs::remove_all(root);
    fs::remove(root.parent_path() / "pvwire-secret.txt");
}

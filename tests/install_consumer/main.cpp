#include <pvwire/version.hpp>

#include <cstdio>

int main() {
    std::printf("pvwire %s\n", pvwire::version_string());
    return 0;
}

// `pvwire decode`: the protocol dissector, usable without the command line (tests).
#pragma once

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace pvwire::tool {

struct DecodeOptions {
    enum class Format { Dump, Summary, Json };
    Format format = Format::Dump;
    bool types = false;             // also print the type descriptions with byte offsets
    bool quiet = false;             // print errors only
    std::size_t max_elements = 20;  // scalar array elements printed in dumps (0: all)
    bool context = true;            // single-message capture file: replay its session first
};

// Decodes every input ("-" or an empty list: `in`). Messages go to `out`, errors and notes
// to `err`. Returns the exit status: 0 when everything decoded, 1 otherwise.
int run_decode(const DecodeOptions& opt, const std::vector<std::string>& inputs, std::istream& in,
               std::ostream& out, std::ostream& err);

// Decodes one input held in memory: capture text (with `[message]` records), hex text, or raw
// binary messages (first byte 0xCA). `name` labels output and errors; `path`, when not empty,
// is where a single-message capture file looks for its session. Returns 0 or 1 as above.
int decode_text(const DecodeOptions& opt, const std::string& text, const std::string& name,
                const std::filesystem::path& path, std::ostream& out, std::ostream& err,
                bool label_input = false);

}  // namespace pvwire::tool

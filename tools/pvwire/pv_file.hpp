// The PVs `pvwire serve` serves: the JSON PV file (docs/pv-file.md) and the --pv
// NAME=TYPE:VALUE shorthand, validated into ready initial values. No network here, so that
// it can be tested on its own.
#pragma once

#include <pvwire/data/value.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pvwire::tool {

// Why a PV file or --pv option cannot be used. what() names the source, the entry (index and
// name) and the key: `demo.json: pvs[3] "demo:table": "value": column "id" has 2 elements ...`.
class PvFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct PvSpec {
    std::string name;
    std::string kind;         // NTScalar, NTScalarArray, NTEnum, NTTable; "pvtype", "schema" (any type)
    TypeCode element = TypeCode::Float64;  // NTScalar/NTScalarArray
    Value initial;            // the complete first value (timeStamp set by the server at start)
    bool read_only = false;
    std::string asg;          // "asg": the access security group, "" for none given (DEFAULT)
    int asl = 0;              // "asl": the access security level, 0..255
    std::optional<double> low, high;  // "limits": puts outside are rejected
    double tick_period = 0;   // seconds; 0: no tick
    double tick_step = 1;

    // "NTScalar double, read-only, limits [-10, 10], ticks +1 every 0.5 s"
    std::string summary() const;
};

// The element names of the file format: bool/boolean, int8..int64, uint8..uint64,
// float/float32, double/float64, string, and the pvData names (byte, short, int, long, ubyte,
// ushort, uint, ulong). nullopt for anything else.
std::optional<TypeCode> element_code(const std::string& name);

// Validates a parsed document ({"pvs": [...]}); `source` labels the messages. Read with
// ordered_json: a "schema" entry's members follow the file.
std::vector<PvSpec> parse_pv_document(const nlohmann::ordered_json& doc, const std::string& source);
// Reads and validates a file (JSON; // and /* */ comments allowed).
std::vector<PvSpec> load_pv_file(const std::string& path);
// One --pv option: NAME=TYPE[:VALUE], TYPE an element name (NTScalar), an element name with
// "[]" (NTScalarArray; VALUE a JSON array or a comma separated list) or "enum" (NTEnum; VALUE
// the comma separated choices, the first selected).
PvSpec parse_pv_option(const std::string& text);

// Checks a put against the PV's rules (limits, enumeration index); an error text or "".
std::string check_put(const PvSpec& spec, const Value& current, const Value& put);

}  // namespace pvwire::tool

#include "pvws_json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>

namespace pvwire::server::detail::pvws {

using Json = nlohmann::ordered_json;

namespace {

constexpr std::array<std::string_view, 5> severities{"NONE", "MINOR", "MAJOR", "INVALID", "UNDEFINED"};

bool is_enum(const Value& v) {
    return v.code() == TypeCode::Struct && v.field("index") && v.field("choices");
}

// The Java VType class name PVWS reports as "vtype" (VDouble, VIntArray, VEnum, VString...).
std::string vtype_of(const Value& v) {
    if (is_enum(v)) return "VEnum";
    const TypeCode c = v.code();
    static constexpr std::array<std::pair<TypeCode, std::string_view>, 12> names{{
        {TypeCode::Bool, "VBoolean"}, {TypeCode::Int8, "VByte"},    {TypeCode::Int16, "VShort"},
        {TypeCode::Int32, "VInt"},     {TypeCode::Int64, "VLong"},   {TypeCode::UInt8, "VUByte"},
        {TypeCode::UInt16, "VUShort"}, {TypeCode::UInt32, "VUInt"},  {TypeCode::UInt64, "VULong"},
        {TypeCode::Float32, "VFloat"}, {TypeCode::Float64, "VDouble"}, {TypeCode::String, "VString"},
    }};
    for (const auto& [code, name] : names)
        if (type_code::element_of(c) == code) return std::string(name) + (type_code::is_array(c) ? "Array" : "");
    return "VType";
}

// Little-endian bytes of `a`'s elements converted to T (PVWS's ByteBuffer, LITTLE_ENDIAN).
template <class T> std::string packed(const SharedArray& a) {
    std::vector<std::byte> bytes(a.size() * sizeof(T));
    type_code::visit_scalar_type(a.element_code(), [&](auto tag) {
        using E = typename decltype(tag)::type;
        if constexpr (std::is_arithmetic_v<E>) {
            const auto in = a.span<E>();
            for (std::size_t i = 0; i < in.size(); ++i) {
                T x = static_cast<T>(in[i]);
                if constexpr (std::endian::native == std::endian::big) std::reverse(
                    reinterpret_cast<std::byte*>(&x), reinterpret_cast<std::byte*>(&x) + sizeof x);
                std::memcpy(bytes.data() + i * sizeof(T), &x, sizeof(T));
            }
        }
    });
    return base64(bytes);
}

// The PVWS field and payload of a numeric array: doubles as b64dbl, floats b64flt, 16-bit
// integers b64srt, 8-bit b64byt, the other integers b64int (32-bit, as PVWS's getInt()).
void put_array(Json& j, const SharedArray& a) {
    switch (a.element_code()) {
    case TypeCode::Float64: j["b64dbl"] = packed<double>(a); break;
    case TypeCode::Float32: j["b64flt"] = packed<float>(a); break;
    case TypeCode::Int16: case TypeCode::UInt16: j["b64srt"] = packed<std::int16_t>(a); break;
    case TypeCode::Int8: case TypeCode::UInt8: case TypeCode::Bool: j["b64byt"] = packed<std::int8_t>(a); break;
    default: j["b64int"] = packed<std::int32_t>(a); break;
    }
}

// "value" or "text" (and an enum's both), as PVWS: a non-finite double is the string "NaN".
void put_value(Json& j, const Value& value) {
    const Value v = value.field("value");
    if (!v) {
        j["text"] = value.to_string();
        return;
    }
    const TypeCode c = v.code();
    if (is_enum(v)) {
        const int index = v["index"].as<int>();
        j["value"] = index;
        const auto choices = v["choices"].array();
        if (index >= 0 && std::size_t(index) < choices.size() && choices.holds<std::string>())
            j["text"] = choices.span<std::string>()[std::size_t(index)];
    } else if (type_code::is_float(c)) {
        const double d = v.as<double>();
        if (std::isfinite(d)) j["value"] = d;
        else j["value"] = "NaN";
    } else if (type_code::is_unsigned(c)) {
        j["value"] = v.as<std::uint64_t>();
    } else if (type_code::is_integer(c) || type_code::is_bool(c)) {
        j["value"] = v.as<std::int64_t>();
    } else if (type_code::is_string(c)) {
        j["text"] = v.as<std::string>();
    } else if (type_code::is_array(c) && type_code::is_numeric(type_code::element_of(c))) {
        put_array(j, v.array());
    } else {
        j["text"] = v.to_string();
    }
}

template <class T> void put_if(Json& j, const char* key, const Value& v, std::string_view path) {
    if (auto f = v.field(path))
        if (auto x = f.try_as<T>()) j[key] = *x;
}

// The metadata PVWS sends once: display (units, description, precision, limits), the
// valueAlarm limits, an enum's labels.
void put_metadata(Json& j, const Value& value) {
    const Value v = value.field("value");
    j["vtype"] = v ? vtype_of(v) : "VType";
    if (v && is_enum(v)) {
        const auto choices = v["choices"].array();
        Json labels = Json::array();
        if (choices.holds<std::string>())
            for (const auto& c : choices.span<std::string>()) labels.push_back(c);
        j["labels"] = std::move(labels);
        return;
    }
    if (!v || is_enum(v) || !type_code::is_numeric(type_code::element_of(v.code()))) return;
    put_if<std::string>(j, "units", value, "display.units");
    put_if<std::string>(j, "description", value, "display.description");
    put_if<int>(j, "precision", value, "display.precision");
    put_if<double>(j, "min", value, "display.limitLow");
    put_if<double>(j, "max", value, "display.limitHigh");
    put_if<double>(j, "warn_low", value, "valueAlarm.lowWarningLimit");
    put_if<double>(j, "warn_high", value, "valueAlarm.highWarningLimit");
    put_if<double>(j, "alarm_low", value, "valueAlarm.lowAlarmLimit");
    put_if<double>(j, "alarm_high", value, "valueAlarm.highAlarmLimit");
}

}  // namespace

std::string_view severity_name(int severity) {
    return severity >= 0 && std::size_t(severity) < severities.size() ? severities[std::size_t(severity)]
                                                                       : severities.back();
}

std::string update_json(std::string_view pv, const Value& value, bool readonly, SentState& sent) {
    Json j;
    j["type"] = "update";
    j["pv"] = pv;
    if (!sent.metadata) put_metadata(j, value);
    const auto severity = value.field("alarm.severity");
    const std::string_view sev = severity_name(severity ? severity.try_as<int>().value_or(0) : 0);
    if (!sent.metadata || sev != sent.severity) j["severity"] = sev;
    put_value(j, value);
    if (sent.readonly != readonly) j["readonly"] = readonly;
    if (auto s = value.field("timeStamp.secondsPastEpoch")) {
        j["seconds"] = s.try_as<std::int64_t>().value_or(0);
        j["nanos"] = value.field("timeStamp.nanoseconds").try_as<std::int64_t>().value_or(0);
    }
    sent.metadata = true;
    sent.severity = sev;
    sent.readonly = readonly;
    return j.dump();
}

std::string disconnected_json(std::string_view pv, SentState& sent) {
    sent = SentState{};
    sent.severity = "UNDEFINED";
    sent.readonly = true;
    return Json{{"type", "update"}, {"pv", pv}, {"severity", "UNDEFINED"}, {"readonly", true}}.dump();
}

std::string error_json(std::string_view message) { return Json{{"type", "error"}, {"message", message}}.dump(); }

std::string list_json(const std::vector<std::string>& names) {
    return Json{{"type", "list"}, {"pvs", names}}.dump();
}

std::string base64(std::span<const std::byte> bytes) {
    static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned n = unsigned(bytes[i]) << 16 | unsigned(bytes[i + 1]) << 8 | unsigned(bytes[i + 2]);
        for (int s : {18, 12, 6, 0}) out += digits[(n >> s) & 63];
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        unsigned n = unsigned(bytes[i]) << 16;
        if (rest == 2) n |= unsigned(bytes[i + 1]) << 8;
        out += digits[(n >> 18) & 63];
        out += digits[(n >> 12) & 63];
        out += rest == 2 ? digits[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

namespace {
std::optional<Request::Kind> kind_of(std::string_view type) {
    using K = Request::Kind;
    // "monitor": PVWS accepts it for epics2web's clients
    static constexpr std::array<std::pair<std::string_view, K>, 7> kinds{{{"subscribe", K::subscribe},
                                                                          {"monitor", K::subscribe},
                                                                          {"clear", K::clear},
                                                                          {"list", K::list},
                                                                          {"write", K::write},
                                                                          {"ping", K::ping},
                                                                          {"echo", K::echo}}};
    for (const auto& [name, kind] : kinds)
        if (name == type) return kind;
    return std::nullopt;
}

bool read_pvs(const Json& j, Request& r, std::string& error) {
    const auto it = j.find("pvs");
    if (it == j.end() || !it->is_array()) return error = "missing 'pvs' (an array of names)", false;
    for (const auto& n : *it) {
        if (!n.is_string()) return error = "'pvs' holds a name that is not a string", false;
        r.pvs.push_back(n.get<std::string>());
    }
    return true;
}

bool read_write(const Json& j, Request& r, std::string& error) {
    const auto pv = j.find("pv");
    if (pv == j.end() || !pv->is_string()) return error = "missing 'pv' in a write", false;
    r.pv = pv->get<std::string>();
    const auto value = j.find("value");
    if (value == j.end()) return error = "missing 'value' in a write", false;
    if (value->is_number()) r.number = value->get<double>();
    else if (value->is_string()) r.text = value->get<std::string>();
    else r.text = value->dump();
    return true;
}
}  // namespace

std::optional<Request> parse_request(std::string_view message, std::string& error) {
    const Json j = Json::parse(message, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return error = "not a JSON object", std::nullopt;
    const auto type = j.find("type");
    if (type == j.end() || !type->is_string()) return error = "missing 'type'", std::nullopt;
    const auto kind = kind_of(type->get<std::string>());
    if (!kind) return error = "unknown message type '" + type->get<std::string>() + "'", std::nullopt;
    Request r;
    r.kind = *kind;
    using K = Request::Kind;
    if ((r.kind == K::subscribe || r.kind == K::clear) && !read_pvs(j, r, error)) return std::nullopt;
    if (r.kind == K::write && !read_write(j, r, error)) return std::nullopt;
    return r;
}

std::optional<std::string> pva_name(std::string_view name, std::string& error) {
    constexpr std::string_view pva = "pva://";
    if (name.starts_with(pva)) name.remove_prefix(pva.size());
    else if (const auto scheme = name.find("://"); scheme != std::string_view::npos) {
        const std::string_view s = name.substr(0, scheme);
        error = s == "ca" ? "Channel Access (ca://) is not supported by pvwire: use pva:// or no prefix"
                          : "unsupported PV scheme '" + std::string(s) + "://': use pva:// or no prefix";
        return std::nullopt;
    }
    if (name.empty()) return error = "empty PV name", std::nullopt;
    return std::string(name);
}

}  // namespace pvwire::server::detail::pvws

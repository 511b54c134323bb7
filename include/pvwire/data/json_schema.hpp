/// @file
/// pvData types from a JSON Schema subset, so that channels can be declared in the schema
/// language web and configuration tools already speak. The mapping (docs/pv-file.md, "Types
/// by schema"):
///
/// | JSON Schema                                   | pvData                                   |
/// |-----------------------------------------------|------------------------------------------|
/// | `"type": "object"`, `"properties"`            | structure, members in file order         |
/// | `"type": "array"`, `"items"`                  | array of the item's scalar, structure[], union[] or any[] |
/// | `"maxItems"` (`"minItems"` equal: fixed)      | bounded (fixed) array of a scalar        |
/// | `"type": "integer"`, `"format"`               | int8..int64, uint8..uint64 (default int32) |
/// | `"type": "number"`, `"format"`                | float32 or float64 (default float64)     |
/// | `"type": "string"` (`"maxLength"`)            | string (bounded string)                  |
/// | `"type": "boolean"`                           | boolean                                  |
/// | `"enum"` of strings                           | structure "enum_t" { int32 index; string[] choices } |
/// | `"oneOf"`, each alternative with a `"title"`  | union, members named by the titles       |
/// | `{}` (or `true`)                              | any                                      |
/// | `"x-pvdata-id"`                               | the structure or union id                |
/// | `"x-pvdata-type"`                             | a type in the compact text (type_text.hpp) |
///
/// Annotations (title, description, $comment, default, examples, $schema, $id, readOnly,
/// writeOnly, deprecated) are ignored; `"required"` is accepted and ignored (every pvData
/// field always exists), `"additionalProperties"` only as false. Any other keyword is an
/// error, so that nothing a schema says is silently dropped.
///
/// Threading: plain functions; no shared state. Part of the compiled library only (not of
/// PVWIRE_HEADER_ONLY).
#pragma once

#include <pvwire/data/type_desc.hpp>
#include <pvwire/data/type_text.hpp>  // SchemaError, TypeTextLimits
#include <pvwire/data/value.hpp>

#include <string_view>

namespace pvwire {

/// The pvData type a JSON Schema describes (see the file's description). The text is parsed
/// keeping the order of object members, so structure members follow the file. Throws
/// SchemaError naming the path of the offending schema:
/// `schema: properties.alarm.properties.severity: "format" "int33" is not an integer format ...`.
/// Nesting deeper than TypeTextLimits::max_depth, more than max_fields fields or more than
/// max_text bytes are refused the same way.
TypePtr type_from_json_schema(std::string_view json_text);

/// The type of type_from_json_schema() with a first value: zero everywhere, except that every
/// `"enum"` reached through structures alone gets its list as the choices (index 0). Enums
/// inside array items or union alternatives have no field in a new value, so theirs are left
/// empty. Throws SchemaError as type_from_json_schema() does.
Value value_from_json_schema(std::string_view json_text);

}  // namespace pvwire

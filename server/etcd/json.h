// The little JSON etcd's gateway needs: escaping strings into request bodies, and a small
// strict parser for its answers into a tiny DOM. Numbers keep their source text (etcd
// sends int64s as JSON strings anyway; Int64Field reads both forms).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpkv::etcd {

// Appends `s` as a JSON string literal (quotes included) to *out. Bytes >= 0x80 pass
// through unchanged (the caller hands UTF-8); control characters become \uXXXX.
void AppendJsonString(std::string_view s, std::string* out);
std::string JsonQuote(std::string_view s);

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool bool_value() const { return bool_; }
  // A string's decoded text, or a number's source text ("-12.5e3").
  const std::string& text() const { return text_; }
  const std::vector<JsonValue>& items() const { return items_; }
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

  // An object's member named `key` (the last one if repeated), or nullptr (also when this
  // is not an object).
  const JsonValue* Find(std::string_view key) const;

  // Parses a whole document: one value, surrounded by optional whitespace, nothing else.
  // Nesting deeper than 64 levels is rejected. On failure returns false and sets *error.
  static bool Parse(std::string_view text, JsonValue* out, std::string* error);

 private:
  friend class JsonParser;

  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

// Reads an int64 member that etcd encodes as a JSON string ("123") or a number (123). A
// missing member is `fallback` (proto3 JSON omits zero values) and returns true; a
// present member that is not an integer in range returns false.
bool Int64Field(const JsonValue& object, std::string_view key, int64_t fallback, int64_t* out);

// Reads a string member; missing → "" (proto3 omits empty values); non-string → false.
bool StringField(const JsonValue& object, std::string_view key, std::string* out);

}  // namespace httpkv::etcd

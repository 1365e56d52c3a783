#pragma once
// Jinja's filters, tests, attribute lookup and global functions, with the
// behaviour of jinja2 3.1 under transformers' chat-template environment.
#include <string>

#include "chat/jinja/value.h"

namespace mobilellm::jinja {

[[noreturn]] void fail_at(int line, const std::string& what);

Value apply_filter(const std::string& name, const Value& v, const Args& args, int line);
bool apply_test(const std::string& name, const Value& v, const Args& args, int line);

// obj.name: a method of str / dict, a dict or namespace member, else undefined.
Value get_attr(const Value& obj, const std::string& name, int line);
// obj[key]: list / string index, dict member, else undefined.
Value get_item(const Value& obj, const Value& key, int line);

// range, namespace, dict, raise_exception, strftime_now; undefined otherwise.
Value global_function(const std::string& name);

// Python's len(): code points for strings.
int64_t length(const Value& v, int line);

}  // namespace mobilellm::jinja

#pragma once
// A context-free grammar over bytes and its incremental recognizer: the text
// generated so far is a prefix of some sentence exactly when the recognizer's
// state is not dead. Used to constrain decoding to valid JSON.
//
// Rules are alternatives of sequences; an element matches one byte from a set
// or a whole rule. Rules must not be left-recursive (the JSON grammars we
// build are not). A parse state is the set of possible stacks of "what comes
// next"; stacks are interned nodes (element, parent), so equal stacks are one
// id and states stay small. States and their byte transitions are interned
// too, which makes the recognizer a lazily built automaton.
#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mobilellm::chat {

using ByteSet = std::bitset<256>;

class Grammar {
 public:
  struct Element {
    enum Kind : uint8_t { kBytes, kRule, kEnd } kind;
    int32_t arg = 0;  // byte-set index or rule id
  };
  using Sequence = std::vector<Element>;

  int32_t add_rule();  // a rule without alternatives yet
  void add_alternative(int32_t rule, const Sequence& sequence);
  Element bytes(const ByteSet& set);
  Element byte(uint8_t b);
  static Element ref(int32_t rule) { return {Element::kRule, rule}; }
  Sequence literal(std::string_view text);  // one element per byte
  void set_root(int32_t rule) { root_ = rule; }

  // Rule-building helpers: each returns a new rule.
  int32_t choice(const std::vector<Sequence>& alternatives);
  int32_t optional(const Sequence& body);                          // body | ε
  int32_t repeat(const Sequence& body, int64_t min, int64_t max);  // max < 0: unbounded

  int32_t root() const { return root_; }
  const std::vector<int32_t>& alternatives(int32_t rule) const { return rules_[static_cast<size_t>(rule)]; }
  const Element& element(int32_t pos) const { return elements_[static_cast<size_t>(pos)]; }
  const ByteSet& byte_set(int32_t index) const { return sets_[static_cast<size_t>(index)]; }

 private:
  std::vector<Element> elements_;            // every alternative, each ended by kEnd
  std::vector<std::vector<int32_t>> rules_;  // rule → start positions of its alternatives
  std::vector<ByteSet> sets_;
  int32_t root_ = -1;
};

class Recognizer {
 public:
  static constexpr int32_t kDead = -1;

  explicit Recognizer(const Grammar& grammar);
  int32_t start() const { return start_; }
  // The state after one more byte, or kDead.
  int32_t advance(int32_t state, uint8_t byte);
  int32_t advance(int32_t state, std::string_view bytes);
  bool accepting(int32_t state) const { return states_[static_cast<size_t>(state)].accepting; }
  // No byte can follow (only the end of the text).
  bool finished(int32_t state) const { return states_[static_cast<size_t>(state)].allowed.none(); }

 private:
  struct State {
    std::vector<int32_t> nodes;  // stack tops, sorted; every top is at a byte element
    bool accepting = false;
    ByteSet allowed;            // bytes with a live transition
    std::vector<int32_t> next;  // [256], -2: not computed yet
  };
  int32_t node(int32_t pos, int32_t parent);
  // Adds the stack tops reachable from (pos, parent) without reading a byte.
  void close(int32_t pos, int32_t parent, std::vector<int32_t>& tops, bool& accepting, int depth);
  int32_t intern(std::vector<int32_t> tops, bool accepting);

  const Grammar& g_;
  struct Node {
    int32_t pos, parent;
  };
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, int32_t> node_ids_;
  std::vector<State> states_;
  std::unordered_map<std::string, int32_t> state_ids_;  // key: accepting flag + node ids
  int32_t start_ = kDead;
};

}  // namespace mobilellm::chat

#include "chat/grammar.h"

#include <algorithm>

#include "runtime/error.h"

namespace mobilellm::chat {
namespace {
// Rules nest no deeper than this without reading a byte; deeper means a
// left-recursive grammar, a bug in whoever built it.
constexpr int kMaxClosureDepth = 2000;
constexpr int32_t kBottom = -1;  // parent of the outermost stack frame
constexpr int32_t kUnknown = -2;
}  // namespace

int32_t Grammar::add_rule() {
  rules_.emplace_back();
  return static_cast<int32_t>(rules_.size() - 1);
}

void Grammar::add_alternative(int32_t rule, const Sequence& sequence) {
  rules_[static_cast<size_t>(rule)].push_back(static_cast<int32_t>(elements_.size()));
  elements_.insert(elements_.end(), sequence.begin(), sequence.end());
  elements_.push_back({Element::kEnd, 0});
}

Grammar::Element Grammar::bytes(const ByteSet& set) {
  auto it = std::find(sets_.begin(), sets_.end(), set);
  if (it == sets_.end()) it = sets_.insert(sets_.end(), set);
  return {Element::kBytes, static_cast<int32_t>(it - sets_.begin())};
}

Grammar::Element Grammar::byte(uint8_t b) {
  ByteSet set;
  set.set(b);
  return bytes(set);
}

Grammar::Sequence Grammar::literal(std::string_view text) {
  Sequence seq;
  for (char c : text) seq.push_back(byte(static_cast<uint8_t>(c)));
  return seq;
}

int32_t Grammar::choice(const std::vector<Sequence>& alternatives) {
  const int32_t rule = add_rule();
  for (const auto& alt : alternatives) add_alternative(rule, alt);
  return rule;
}

int32_t Grammar::optional(const Sequence& body) { return choice({body, {}}); }

int32_t Grammar::repeat(const Sequence& body, int64_t min, int64_t max) {
  const int32_t item = choice({body});
  Sequence head;
  for (int64_t i = 0; i < min; ++i) head.push_back(ref(item));
  if (max < 0) {  // tail: item tail | ε
    const int32_t tail = add_rule();
    add_alternative(tail, {ref(item), ref(tail)});
    add_alternative(tail, {});
    head.push_back(ref(tail));
  } else if (max > min) {  // up to max - min more, nested so each is optional
    int32_t rest = optional({ref(item)});
    for (int64_t i = 1; i < max - min; ++i) rest = choice({{ref(item), ref(rest)}, {}});
    head.push_back(ref(rest));
  }
  return choice({head});
}

Recognizer::Recognizer(const Grammar& grammar) : g_(grammar) {
  std::vector<int32_t> tops;
  bool accepting = false;
  for (int32_t alt : g_.alternatives(g_.root())) close(alt, kBottom, tops, accepting, 0);
  start_ = intern(std::move(tops), accepting);
}

int32_t Recognizer::node(int32_t pos, int32_t parent) {
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(pos)) << 32) | static_cast<uint32_t>(parent);
  auto [it, inserted] = node_ids_.emplace(key, static_cast<int32_t>(nodes_.size()));
  if (inserted) nodes_.push_back({pos, parent});
  return it->second;
}

void Recognizer::close(int32_t pos, int32_t parent, std::vector<int32_t>& tops, bool& accepting, int depth) {
  if (depth > kMaxClosureDepth) throw Error("grammar: rules nest too deep (left recursion?)");
  const Grammar::Element& e = g_.element(pos);
  switch (e.kind) {
    case Grammar::Element::kBytes: tops.push_back(node(pos, parent)); return;
    case Grammar::Element::kEnd:
      if (parent == kBottom) {
        accepting = true;
      } else {
        const Node up = nodes_[static_cast<size_t>(parent)];
        close(up.pos, up.parent, tops, accepting, depth + 1);
      }
      return;
    case Grammar::Element::kRule: {
      // A rule at the end of an alternative continues with the caller's
      // continuation: right recursion does not grow the stack.
      const int32_t after = g_.element(pos + 1).kind == Grammar::Element::kEnd ? parent : node(pos + 1, parent);
      for (int32_t alt : g_.alternatives(e.arg)) close(alt, after, tops, accepting, depth + 1);
      return;
    }
  }
}

int32_t Recognizer::intern(std::vector<int32_t> tops, bool accepting) {
  std::sort(tops.begin(), tops.end());
  tops.erase(std::unique(tops.begin(), tops.end()), tops.end());
  if (tops.empty() && !accepting) return kDead;
  std::string key(1, accepting ? '1' : '0');
  key.append(reinterpret_cast<const char*>(tops.data()), tops.size() * sizeof(int32_t));
  auto it = state_ids_.find(key);
  if (it != state_ids_.end()) return it->second;
  State s;
  s.accepting = accepting;
  for (int32_t top : tops) s.allowed |= g_.byte_set(g_.element(nodes_[static_cast<size_t>(top)].pos).arg);
  s.nodes = std::move(tops);
  s.next.assign(256, kUnknown);
  const int32_t id = static_cast<int32_t>(states_.size());
  states_.push_back(std::move(s));
  state_ids_.emplace(std::move(key), id);
  return id;
}

int32_t Recognizer::advance(int32_t state, uint8_t byte) {
  if (state == kDead) return kDead;
  {
    const State& s = states_[static_cast<size_t>(state)];
    if (!s.allowed.test(byte)) return kDead;
    if (s.next[byte] != kUnknown) return s.next[byte];
  }
  std::vector<int32_t> tops;
  bool accepting = false;
  const std::vector<int32_t> from = states_[static_cast<size_t>(state)].nodes;  // close() may grow states_
  for (int32_t top : from) {
    const Node n = nodes_[static_cast<size_t>(top)];
    if (g_.byte_set(g_.element(n.pos).arg).test(byte)) close(n.pos + 1, n.parent, tops, accepting, 0);
  }
  const int32_t next = intern(std::move(tops), accepting);
  states_[static_cast<size_t>(state)].next[byte] = next;
  return next;
}

int32_t Recognizer::advance(int32_t state, std::string_view bytes) {
  for (char c : bytes) {
    state = advance(state, static_cast<uint8_t>(c));
    if (state == kDead) break;
  }
  return state;
}

}  // namespace mobilellm::chat

#include "bench_parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "mobilellm/engine.h"

namespace mobilellm::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<int32_t> random_prompt(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(std::min<int64_t>(vocab, 200000)));
  return ids;
}

// One greedy generation on a fresh cache; when each token arrived, in seconds
// after `start`. `more(count)`: whether to go on after `count` tokens.
std::vector<double> generate(Engine& engine, Session& session, std::vector<int32_t> prompt, int64_t max_tokens,
                             Clock::time_point start, const std::function<bool(int64_t)>& more) {
  GenerateRequest r = engine.default_request();
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.stop_ids.clear();  // every stream generates all its tokens
  session.reset();
  std::vector<double> at;
  session.generate(r, [&](const TokenEvent&) {
    at.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    return more(static_cast<int64_t>(at.size()));
  });
  return at;
}

struct Measurement {
  int64_t streams = 0;
  double wall_s = 0;
  double aggregate_tok_s = 0;    // Σ over streams of (tokens after its first) / (its last − its first token time)
  double mean_token_gap_ms = 0;  // between two tokens of one stream
  double max_token_gap_ms = 0;
  double mean_first_token_s = 0;  // all prompts arrive at once at 0
  double mean_batch = 0;          // sessions per forward step
  // With a late request: its time to first token, and the longest wait of a
  // running stream between two tokens while its prompt was read.
  double late_first_token_s = 0, late_max_gap_s = 0;
};

Measurement measure(Engine& engine, std::vector<std::unique_ptr<Session>>& sessions, const ParallelBenchOptions& o,
                    int64_t n) {
  const int64_t vocab = engine.info().vocab_size;
  const bool late = o.late_prompt > 0;
  const StepStats before = engine.step_stats();
  const Clock::time_point start = Clock::now();
  std::vector<std::vector<double>> at(static_cast<size_t>(n));
  std::atomic<int64_t> warmed{0};  // streams with 3 tokens or more
  std::atomic<bool> late_done{!late};
  std::vector<std::thread> threads;
  for (int64_t i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      // With a late request, a stream goes on until that request has its
      // first token, so that it decodes for the whole of that prompt.
      const int64_t room = sessions[static_cast<size_t>(i)]->context() - o.prompt;
      at[static_cast<size_t>(i)] =
          generate(engine, *sessions[static_cast<size_t>(i)], random_prompt(o.prompt, vocab, 100 + i),
                   late ? room : o.gen, start, [&](int64_t count) {
                     if (count == 3) ++warmed;
                     return count < o.gen || !late_done.load();
                   });
    });
  Measurement m;
  m.streams = n;
  double arrival = 0;
  std::vector<double> late_at;
  if (late) {
    while (warmed.load() < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
    arrival = std::chrono::duration<double>(Clock::now() - start).count();
    late_at = generate(engine, *sessions[static_cast<size_t>(n)], random_prompt(o.late_prompt, vocab, 7), 1, start,
                       [](int64_t) { return true; });
    late_done = true;
    m.late_first_token_s = late_at.front() - arrival;
  }
  for (auto& t : threads) t.join();
  m.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  double gaps = 0, gap_count = 0;
  for (const auto& times : at) {
    m.mean_first_token_s += times.front() / static_cast<double>(n);
    if (times.size() > 1) m.aggregate_tok_s += static_cast<double>(times.size() - 1) / (times.back() - times.front());
    for (size_t k = 1; k < times.size(); ++k) {
      const double gap = times[k] - times[k - 1];
      gaps += gap;
      ++gap_count;
      m.max_token_gap_ms = std::max(m.max_token_gap_ms, 1e3 * gap);
      if (late && times[k] > arrival && times[k - 1] < late_at.front())
        m.late_max_gap_s = std::max(m.late_max_gap_s, gap);
    }
  }
  m.mean_token_gap_ms = gap_count > 0 ? 1e3 * gaps / gap_count : 0;
  const StepStats after = engine.step_stats();
  if (after.steps > before.steps)
    m.mean_batch =
        static_cast<double>(after.sequences - before.sequences) / static_cast<double>(after.steps - before.steps);
  return m;
}

}  // namespace

void run_parallel_bench(const ParallelBenchOptions& o) {
  EngineOptions eo;
  eo.model = o.model;
  eo.threads = o.threads;
  eo.prefill_chunk = o.prefill_chunk;
  eo.require_tokenizer = false;
  auto engine = Engine::load(eo);
  const int64_t most = *std::max_element(o.streams.begin(), o.streams.end());
  const int64_t context = std::min<int64_t>(
      engine->info().max_context, std::max(o.prompt + o.gen, o.late_prompt + 1) + (o.late_prompt > 0 ? 4096 : 0));
  std::vector<std::unique_ptr<Session>> sessions;
  for (int64_t i = 0; i <= most; ++i) sessions.push_back(engine->new_session(context));

  // The late prompt on an idle engine: the time it takes when nothing else runs.
  double idle_first_token_s = 0;
  if (o.late_prompt > 0) {
    const Clock::time_point start = Clock::now();
    idle_first_token_s = generate(*engine, *sessions[0], random_prompt(o.late_prompt, engine->info().vocab_size, 7), 1,
                                  start, [](int64_t) { return true; })
                             .front();
  }
  std::vector<Measurement> results;
  for (int64_t n : o.streams) results.push_back(measure(*engine, sessions, o, n));

  const double one = results.front().streams == 1 ? results.front().aggregate_tok_s : 0;
  if (o.json) {
    nlohmann::json out = {{"model", o.model}, {"threads", engine->threads()},     {"prompt", o.prompt},
                          {"gen", o.gen},     {"prefill_chunk", o.prefill_chunk}, {"rows", nlohmann::json::array()}};
    if (o.late_prompt > 0) {
      out["late_prompt"] = o.late_prompt;
      out["late_idle_first_token_s"] = idle_first_token_s;
    }
    for (const Measurement& m : results) {
      nlohmann::json row = {{"streams", m.streams},
                            {"aggregate_tokens_per_s", m.aggregate_tok_s},
                            {"mean_token_gap_ms", m.mean_token_gap_ms},
                            {"max_token_gap_ms", m.max_token_gap_ms},
                            {"mean_first_token_s", m.mean_first_token_s},
                            {"mean_batch", m.mean_batch},
                            {"wall_s", m.wall_s}};
      if (o.late_prompt > 0) {
        row["late_first_token_s"] = m.late_first_token_s;
        row["late_max_gap_s"] = m.late_max_gap_s;
      }
      out["rows"].push_back(row);
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("model      %s\n", o.model.c_str());
  std::printf("threads    %d; each stream: a %lld-token prompt, then %lld greedy tokens; prompt chunk %lld\n",
              engine->threads(), static_cast<long long>(o.prompt), static_cast<long long>(o.gen),
              static_cast<long long>(o.prefill_chunk));
  if (o.late_prompt > 0)
    std::printf(
        "late       a %lld-token prompt arrives once every stream decodes; alone (idle) its first token "
        "takes %.3f s\n",
        static_cast<long long>(o.late_prompt), idle_first_token_s);
  std::printf("\n%8s %14s %9s %14s %14s %16s %11s", "streams", "aggregate tok/s", "vs one", "mean gap ms", "max gap ms",
              "first token s", "mean batch");
  if (o.late_prompt > 0) std::printf(" %14s %10s %18s", "late TTFT s", "vs idle", "max gap / idle TTFT");
  std::printf("\n");
  for (const Measurement& m : results) {
    char ratio[32] = "-";
    if (one > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", m.aggregate_tok_s / one);
    std::printf("%8lld %14.2f %9s %14.1f %14.1f %16.3f %11.2f", static_cast<long long>(m.streams), m.aggregate_tok_s,
                ratio, m.mean_token_gap_ms, m.max_token_gap_ms, m.mean_first_token_s, m.mean_batch);
    if (o.late_prompt > 0)
      std::printf(" %14.3f %9.2fx %17.0f %%", m.late_first_token_s, m.late_first_token_s / idle_first_token_s,
                  100.0 * m.late_max_gap_s / idle_first_token_s);
    std::printf("\n");
  }
}

}  // namespace mobilellm::cli
